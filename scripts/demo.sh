#!/usr/bin/env bash
# One command: install, migrate, load the demo catalog, and run web + worker +
# beat + the local Stripe sandbox together. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python manage.py run_demo "$@"
