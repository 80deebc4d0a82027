"""Fixtures shared with remixing's tests: recordings with audio and official stems."""

from tests.remixing.conftest import make_recording  # noqa: F401 - a fixture, used by name
