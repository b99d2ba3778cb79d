"""Fixtures for the on-device tests: a live server whose cache holds u2netp and the pinned
web runtime (linked from the real cache), and Debian Chromium driven by Playwright."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

if not all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "httpx")):
    collect_ignore_glob = ["test_*.py"]
