#!/usr/bin/env bash
# Set up alphacut in ./.venv (idempotent): Python packages, then the u2netp weights.
# Usage: bash scripts/setup.sh [extras]   (extras default: all,test)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all,test}"
python3 -m venv .venv
stamp=".venv/.alphacut-installed-$(cat pyproject.toml setup.py src/alphacut/core/refine/_*.[ch] \
  | sha256sum | cut -c1-12)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[${extras}]"
  touch "$stamp"
fi
