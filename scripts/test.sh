#!/usr/bin/env bash
# Everything the tests need on a fresh machine, then the tests: lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Ray engine's extra too (not in "all": ~240 MB; its tests skip when it is absent).
bash scripts/setup.sh all,test,ray
# A real browser for the web page tests: Debian's Chromium (Playwright's own download
# cannot work on machines that only reach package registries).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
     >/dev/null) || echo "warning: could not install chromium; browser tests will skip"
fi
# Real weights for the end-to-end tests, fetched and verified into the cache once.
.venv/bin/alphacut models pull u2netp rvm
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
