#!/usr/bin/env bash
# One command: install, lint (ruff, eslint), type-check (mypy), and run the whole
# test suite (the studio's JavaScript unit tests included: tests/static/test_js_units.py).
# Uses PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set (as in CI), else SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> import layers and cycles"
.venv/bin/lint-imports
echo "==> eslint"
node_modules/.bin/eslint .
echo "==> mypy (against mypy-baseline.txt)"
.venv/bin/python scripts/typecheck.py
echo "==> pytest"
# In parallel (pytest-xdist): one test process per core, each with its own
# test database, media and broker folders, and Redis keys
# (config/settings/test.py); tests that start Celery workers share one
# process (`xdist_group`, tests/conftest.py). PYTEST_WORKERS=0 runs serially.
# A crashed test process ends the run at once (reported as a failure with the test it
# was running): pytest-xdist's loadgroup scheduler can wait forever after replacing one.
# Bytecode is written (__pycache__, ignored by git and Docker): with
# PYTHONDONTWRITEBYTECODE, as the image and CI machines set it, every test process
# and every Celery worker, demo and manage.py process the tests start compiled the
# project from source again, and pytest rewrote every test module again (about
# 7 s of CPU per process, half of collecting the suite).
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadgroup --max-worker-restart=0 "$@"
