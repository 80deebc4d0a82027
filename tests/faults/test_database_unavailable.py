"""While the database is away, pages and the API answer 503 with plain words
and Retry-After, quickly, instead of hanging or failing with a 500.

Runs on SQLite (a database file that cannot be opened) and on PostgreSQL (a
port nobody listens on); tests/faults/test_postgres_faults.py cuts and
black-holes a live PostgreSQL connection through the fault proxy.
"""

from __future__ import annotations

import socket
import time

import pytest
from django.db import close_old_connections, connection

from config.settings.env import postgres_timeouts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(client):
    """Answers as a server gives them: a failure inside a middleware reaches
    handler500's response instead of being raised into the test."""
    client.raise_request_exception = False
    return client


MESSAGE = "Clearmix can't reach its database right now. Please try again in a minute."


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_away(tmp_path):
    """Point the default connection at a database that is not there."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "missing-folder" / "db.sqlite3")
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))

    def restore() -> None:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    yield restore
    restore()


def test_a_page_answers_503_in_plain_words_while_the_database_is_away(client, database_away):
    started = time.monotonic()
    response = client.get("/")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert MESSAGE.replace("'", "&#x27;") in page
    assert "<h1>Clearmix is back in a moment</h1>" in page


def test_the_api_answers_503_in_its_one_error_shape(client, database_away):
    response = client.get("/api/v1/tracks/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": {"code": "database_unavailable", "message": MESSAGE, "fields": {}}
    }


def test_a_signed_in_request_fails_in_a_middleware_and_still_gets_503(client, fan, database_away):
    # The session cookie makes SessionMiddleware/AuthenticationMiddleware ask
    # the database before any view: that path goes through handler500.
    client.cookies["sessionid"] = "a" * 32
    response = client.get("/account/")
    assert response.status_code == 503
    assert MESSAGE.replace("'", "&#x27;") in response.content.decode()


def test_pages_work_again_once_the_database_is_back(client, database_away):
    assert client.get("/").status_code == 503
    database_away()  # the database is back
    close_old_connections()  # what the server does between requests
    assert client.get("/").status_code == 200


def test_postgres_connections_carry_connect_and_statement_timeouts(settings):
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "postgresql":
        assert "connect_timeout" not in options
        pytest.skip("connect and statement timeouts are PostgreSQL settings (SQLite run)")
    assert options["connect_timeout"] == 5
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"
    assert options["keepalives"] == 1
    assert "options" not in postgres_timeouts(connect_seconds=2, statement_ms=0)
