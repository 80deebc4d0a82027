"""Property-based tests of the pure identifier validators."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.identifiers import (
    IdentifierError,
    format_iswc,
    ipi_check_digits,
    iswc_check_digit,
    normalize_ipi,
    normalize_isrc,
    normalize_iswc,
    normalize_musical_key,
)

letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
alnum = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
digit = st.sampled_from("0123456789")


@st.composite
def isrcs(draw):
    return (
        "".join(draw(st.lists(letters, min_size=2, max_size=2)))
        + "".join(draw(st.lists(alnum, min_size=3, max_size=3)))
        + "".join(draw(st.lists(digit, min_size=7, max_size=7)))
    )


@given(isrcs())
def test_valid_isrc_normalises_from_any_presentation(code):
    dashed = f"{code[:2]}-{code[2:5]}-{code[5:7]}-{code[7:]}".lower()
    assert normalize_isrc(code) == code
    assert normalize_isrc(dashed) == code


@given(isrcs(), st.integers(0, 11), st.sampled_from("!@#$%&*_/"))
def test_isrc_with_a_bad_character_is_refused(code, position, bad):
    with pytest.raises(IdentifierError):
        normalize_isrc(code[:position] + bad + code[position + 1 :])


@given(st.text(max_size=20))
def test_isrc_never_crashes(text):
    try:
        result = normalize_isrc(text)
    except IdentifierError:
        return
    assert len(result) == 12


def test_isrc_examples():
    assert normalize_isrc("US-RC1-76-07839") == "USRC17607839"
    for bad in ["", "USRC1760783", "1SRC17607839", "USRC1760783X", "USRC176078390"]:
        with pytest.raises(IdentifierError):
            normalize_isrc(bad)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_iswc_with_its_check_digit_is_valid(nine):
    code = f"T{nine}{iswc_check_digit(nine)}"
    assert normalize_iswc(code) == code
    assert normalize_iswc(format_iswc(code)) == code


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_iswc_with_a_wrong_check_digit_is_refused(nine, delta):
    wrong = (iswc_check_digit(nine) + delta) % 10
    with pytest.raises(IdentifierError, match="check digit"):
        normalize_iswc(f"T{nine}{wrong}")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 8), st.integers(1, 9))
def test_iswc_single_digit_typo_is_caught(nine, position, delta):
    code = f"T{nine}{iswc_check_digit(nine)}"
    typo = nine[:position] + str((int(nine[position]) + delta) % 10) + nine[position + 1 :]
    # Weight i*delta mod 10 is 0 only when (position+1)*delta is a multiple of 10.
    if ((position + 1) * delta) % 10 == 0:
        return
    with pytest.raises(IdentifierError):
        normalize_iswc(f"T{typo}{code[-1]}")


def test_iswc_known_example():
    assert normalize_iswc("T-034.524.680-1") == "T0345246801"
    with pytest.raises(IdentifierError):
        normalize_iswc("T-034.524.680-2")
    with pytest.raises(IdentifierError):
        normalize_iswc("X0345246801")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_ipi_with_its_check_digits_is_valid(nine):
    code = nine + ipi_check_digits(nine)
    assert normalize_ipi(code) == code


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(1, 99))
def test_ipi_with_wrong_check_digits_is_refused(nine, delta):
    wrong = f"{(int(ipi_check_digits(nine)) + delta) % 100:02d}"
    with pytest.raises(IdentifierError):
        normalize_ipi(nine + wrong)


@given(st.text(max_size=15))
def test_ipi_never_crashes(text):
    try:
        normalize_ipi(text)
    except IdentifierError:
        pass


@pytest.mark.parametrize(
    ("text", "key"),
    [("am", "A minor"), ("A minor", "A minor"), ("F#", "F# major"), ("eb min", "Eb minor")],
)
def test_musical_key(text, key):
    assert normalize_musical_key(text) == key


def test_musical_key_refuses_nonsense():
    with pytest.raises(IdentifierError):
        normalize_musical_key("H major")
