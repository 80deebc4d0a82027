"""Billing test helpers.

`flushable_db`: transactional_db that can be emptied on PostgreSQL. catalog's
append-only tables refuse TRUNCATE (a statement trigger), and TRUNCATE is how
Django empties the database after a TransactionTestCase (transactional_db,
live_server). While Django flushes, and only then, the session runs with
session_replication_role=replica so ordinary triggers do not fire. The patch
is installed once per session by the first test that asks for it.
TODO(lead): move this next to catalog's triggers (root conftest) so every
app's transactional tests get it.
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import TransactionTestCase


@pytest.fixture(scope="session")
def _flush_past_append_only_triggers():
    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        names = [n for n in self._databases_names(include_mirrors=False)]
        postgres = [connections[n] for n in names if connections[n].vendor == "postgresql"]
        for connection in postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        try:
            return original(self)
        finally:
            for connection in postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


@pytest.fixture
def flushable_db(_flush_past_append_only_triggers, transactional_db):
    return None
