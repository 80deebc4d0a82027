""".env.example names every environment variable the settings read, and no other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"env_(?:str|bool|int|list|db)\(\s*\"([A-Z][A-Z0-9_]*)\"")
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def variables_read_by_settings() -> set[str]:
    sources = (ROOT / "config" / "settings").glob("*.py")
    return {name for path in sources for name in READ.findall(path.read_text())}


def test_env_example_lists_exactly_what_the_settings_read():
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    read = variables_read_by_settings() | {"DJANGO_SETTINGS_MODULE"}
    assert sorted(read - listed) == []  # read but not documented
    assert sorted(listed - read) == []  # documented but never read


def test_the_scan_sees_the_settings():
    # Guards the regex: these are read in base.py over one and two lines.
    assert {"DATABASE_URL", "REMIXING_JOB_LEASE_SECONDS"} <= variables_read_by_settings()
