#!/usr/bin/env bash
# Installs everything Clearmix needs into .venv (idempotent, fast when nothing changed).
# System packages: ffmpeg (audio), chromium + chromium-driver (browser tests),
# nodejs + npm (axe-core for the browser tests' accessibility checks).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(ffmpeg libchromaprint-tools chromium chromium-driver nodejs npm)
# Installer chatter goes to a log; the console gets one line per step, and the
# log's tail only when a step fails.
mkdir -p var/log
INSTALL_LOG=var/log/install.log
: > "$INSTALL_LOG"
quietly() {
  if ! "$@" >>"$INSTALL_LOG" 2>&1; then
    echo "failed: $*" >&2
    tail -n 30 "$INSTALL_LOG" >&2
    echo "(whole log: $INSTALL_LOG)" >&2
    exit 1
  fi
}
# pip's warnings (running as root, a newer pip available, scripts off PATH)
# say nothing a demo user can act on.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_WARN_SCRIPT_LOCATION=1
export PIP_PROGRESS_BAR=off
missing=()
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
# fpcalc (Chromaprint): the ghost-track guard fingerprints every upload.
command -v fpcalc >/dev/null 2>&1 || missing+=(libchromaprint-tools)
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
[ ! -f package.json ] || command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing system packages: ${missing[*]} (usually 1-3 minutes)..."
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get update -qq
    quietly apt-get install -y -qq "${missing[@]}"
  else
    echo "Clearmix needs these system packages: ${SYSTEM_PACKAGES[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Clearmix needs Python 3.11 (found $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
[ -x .venv/bin/python ] || quietly "$PYTHON" -m venv .venv

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.clearmix-installed
packages_installed=""
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Python packages into .venv (usually 3-8 minutes the first time; later runs skip this)..."
  quietly .venv/bin/python -m pip install -q --upgrade pip
  # The CPU build first, so nothing later pulls a multi-GB CUDA build.
  quietly .venv/bin/python -m pip install -q "torch==2.13.0"
  quietly .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
  packages_installed=1
fi
mkdir -p var

# numba compiles librosa's kernels on first use and caches them; processes doing that
# at the same time can corrupt the cache and crash (remixing/engine/warmup.py). Warm it
# here, alone, whenever the packages or the engine change.
warm_stamp=.venv/.clearmix-numba-warm
warm_want="$( (cat pyproject.toml; cat remixing/engine/*.py 2>/dev/null || true) | sha256sum | cut -d' ' -f1)"
if [ ! -f "$warm_stamp" ] || [ "$(cat "$warm_stamp")" != "$warm_want" ]; then
  # (A fresh install has already said it takes minutes.)
  [ -n "$packages_installed" ] || echo "Compiling the audio analysis kernels once (about a minute)..."
  # From scratch: a cache left by a crashed compile would crash every process that loads it.
  find .venv/lib/python*/site-packages/librosa -name '*.nb[ic]' -delete 2>/dev/null || true
  quietly .venv/bin/python -c "from remixing.engine.warmup import numba_cache_warm; numba_cache_warm()"
  echo "$warm_want" > "$warm_stamp"
fi

# Test-only JavaScript tools (axe-core for the accessibility checks), pinned by package-lock.json.
if [ -f package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "Clearmix's browser tests need node and npm (for axe-core): apt-get install -y nodejs npm" >&2
    exit 1
  fi
  lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -f node_modules/.clearmix-installed ] || [ "$(cat node_modules/.clearmix-installed)" != "$lock" ]; then
    echo "Installing test tools with npm (usually under a minute)..."
    quietly npm ci --no-audit --no-fund --silent
    echo "$lock" > node_modules/.clearmix-installed
  fi
fi
