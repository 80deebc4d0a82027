"""The demo's database step: a SQLite demo database made before users moved
into the accounts app cannot be migrated (its history says admin came before
accounts.User); run_demo sets it aside and starts a fresh one instead of
stopping with Django's InconsistentMigrationHistory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREPARE = (
    "import django; django.setup()\n"
    "from marketplace.management.commands.run_demo import Command\n"
    "Command()._migrate()\n"
)


def run_python(code: str, database: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=f"sqlite:///{database}")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def accounts_migrations(database: Path) -> int:
    with sqlite3.connect(database) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'accounts'"
        ).fetchone()
    return count


def test_a_current_database_is_migrated_in_place_an_old_one_set_aside(tmp_path):
    database = tmp_path / "clearmix.sqlite3"
    for _ in range(2):  # made, then migrated again in place
        result = run_python(PREPARE, database)
        assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["clearmix.sqlite3"]
    assert accounts_migrations(database) == 1
    with sqlite3.connect(database) as db:  # the history of a database from before the move
        db.execute("DELETE FROM django_migrations WHERE app = 'accounts'")

    result = run_python(PREPARE, database)

    assert result.returncode == 0, result.stderr
    aside = [path.name for path in tmp_path.iterdir() if ".before-accounts-" in path.name]
    assert len(aside) == 1
    assert f"The old demo database was set aside as {tmp_path / aside[0]}." in result.stdout
    assert accounts_migrations(database) == 1
