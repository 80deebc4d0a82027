"""The one spelling of a media name the media view accepts (pure)."""

from __future__ import annotations

import pytest

from marketplace.media_paths import media_name_canonical

CANONICAL = [
    "catalog/recordings/0123abcd.flac",
    "catalog/stems/drums-test.flac",
    "remixing/stems/12/vocals.preview.ogg",
    "remixing/remixes/7/remix-7.mp3",
    "remixing/previews/3/0123456789abcdef-excerpt.ogg",
]

REFUSED = [
    "",
    "/catalog/recordings/a.flac",
    "catalog/recordings/../stems/a.flac",
    "catalog/recordings/./a.flac",
    "catalog//recordings/a.flac",
    "catalog/recordings/a.flac/",
    "catalog/recordings/a.flac.",
    "catalog/recordings/.hidden",
    "catalog/recordings/.../a.flac",
    "catalog/recordings/%2e%2e/a.flac",
    "catalog\\recordings\\a.flac",
    "catalog/recordings/a.flac\x00.ogg",
    "catalog/recordings/a.flac\n",
    "catalog/recordings/a b.flac",
    "catalog/recordings/a.flac;x",
    "catalog/recordings/a.flac::$DATA",
    "catalog/recordings/\uff0e\uff0e/a.flac",
    "catalog/recordings/%C0%AE%C0%AE/a.flac",
    "catalog/recordings/\u00e9.flac",
    "c:/catalog/a.flac",
    "a" * 256,
]


@pytest.mark.parametrize("name", CANONICAL)
def test_canonical_names_pass_unchanged(name):
    assert media_name_canonical(name) == name


@pytest.mark.parametrize("name", REFUSED)
def test_every_other_spelling_is_refused(name):
    assert media_name_canonical(name) is None
