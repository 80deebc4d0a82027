#!/usr/bin/env bash
# One command: install, migrate, load the demo catalog, and run web + worker +
# beat + the local Stripe sandbox together. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "Clearmix demo: installing (only what changed), then starting everything."
bash scripts/install.sh
exec .venv/bin/python manage.py run_demo "$@"
