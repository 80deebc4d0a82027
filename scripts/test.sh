#!/usr/bin/env bash
# One command: install, lint, and run the whole test suite.
# Uses PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set (as in CI), else SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
