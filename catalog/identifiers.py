"""Pure validators for the music industry's identifiers (no Django imports).

Each `normalize_*` returns the canonical stored form or raises
`IdentifierError` with a message fit to show a person.
"""

from __future__ import annotations

import re


class IdentifierError(ValueError):
    """The text is not a valid identifier of the kind asked for."""


_SEPARATORS = re.compile(r"[\s\-.]")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
_ISWC = re.compile(r"^T[0-9]{10}$")
_IPI = re.compile(r"^[0-9]{11}$")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def normalize_isrc(value: str) -> str:
    """ISRC: 2-letter country, 3 alphanumeric registrant, 7 digits (year + designation).

    "us-rc1-76-07839" and "USRC17607839" are the same code.
    """
    code = _compact(value)
    if not _ISRC.match(code):
        raise IdentifierError(
            "Enter a valid ISRC: 2 letters, 3 letters or digits, then 7 digits "
            "(for example USRC17607839)."
        )
    return code


def iswc_check_digit(nine_digits: str) -> int:
    """C = (10 - (1 + sum(i * d_i)) mod 10) mod 10, i counted from 1."""
    total = 1 + sum(index * int(digit) for index, digit in enumerate(nine_digits, start=1))
    return (10 - total % 10) % 10


def normalize_iswc(value: str) -> str:
    """ISWC: T, 9 digits, 1 check digit. Stored compact ("T0345246801")."""
    code = _compact(value)
    if not _ISWC.match(code):
        raise IdentifierError(
            "Enter a valid ISWC: T followed by 10 digits (for example T-034.524.680-1)."
        )
    if iswc_check_digit(code[1:10]) != int(code[10]):
        raise IdentifierError("This ISWC's check digit is wrong; please check for a typo.")
    return code


def format_iswc(code: str) -> str:
    """The display form: T-034.524.680-1."""
    return f"{code[0]}-{code[1:4]}.{code[4:7]}.{code[7:10]}-{code[10]}"


def ipi_check_digits(nine_digits: str) -> str:
    """CISAC IPI name number: weights 10..2 over the first nine digits, mod 101."""
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(nine_digits)) % 101
    if total:
        total = (101 - total) % 100
    return f"{total:02d}"


def normalize_ipi(value: str) -> str:
    """IPI name number: 11 digits, the last two are check digits.

    Shorter legacy CAE numbers are left-padded with zeros, as CISAC does.
    """
    code = _compact(value)
    if code.isdigit() and 9 <= len(code) < 11:
        code = code.zfill(11)
    if not _IPI.match(code):
        raise IdentifierError("Enter a valid IPI name number: 11 digits.")
    if ipi_check_digits(code[:9]) != code[9:]:
        raise IdentifierError("This IPI name number's check digits are wrong.")
    return code


_KEY = re.compile(r"^([A-Ga-g])([#b♯♭]?)\s*(major|minor|maj|min|m|)$", re.IGNORECASE)


def normalize_musical_key(value: str) -> str:
    """ "am", "A min", "a minor" -> "A minor"; "F#" -> "F# major"."""
    text = (value or "").strip()
    match = _KEY.match(text)
    if not match:
        raise IdentifierError('Enter a key like "A minor", "F# major" or "Eb minor".')
    letter, accidental, mode = match.groups()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    mode = "minor" if mode.lower() in {"minor", "min", "m"} else "major"
    if mode == "minor" and match.group(3) == "M":
        mode = "major"
    return f"{letter.upper()}{accidental} {mode}"


# --- Our own row ids -----------------------------------------------------------

# The largest id a bigint primary key holds; SQLite overflows past it.
MAX_ROW_ID = 2**63 - 1


def row_id_or_none(value: object) -> int | None:
    """A row id from outside (a form field, a query string), or None when the
    text cannot be one: not ASCII digits, zero, or past the largest bigint."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        # isdigit() also accepts "١٢" and "²"; only ASCII digits are ids.
        # Past 19 digits it cannot be an id (and int() refuses 4,300 and more).
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 19:
            return None
        number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None
