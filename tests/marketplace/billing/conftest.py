"""Billing test helpers.

`flushable_db`: a transactional database for tests that need real commits
(webhook concurrency, live delivery, browser). The append-only triggers
leave TRUNCATE alone, so Django's flush after such a test just works.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def flushable_db(transactional_db):
    return None
