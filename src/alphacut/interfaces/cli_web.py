"""``alphacut export-web DIR [--model M ...]``: the static on-device site (``alphacut.web``).

Light at import (argparse only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EPILOG = """examples:
  alphacut export-web site/                          # u2netp (Apache-2.0, 4.6 MB)
  alphacut export-web site/ --model u2netp --model modnet
  cd site && python serve.py 8000                    # threads on (COOP/COEP headers)
  cd site && python -m http.server 8000              # works too, one thread
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from alphacut.web.models import PAGE_MODELS

    p = subparsers.add_parser(
        "export-web", help="write a static site that removes backgrounds in the browser",
        description="Write a self-contained static site: the page (on-device mode only), "
        "ONNX Runtime Web, the chosen models with their licences, alphacut.mjs "
        "(removeBackground(blob) -> PNG blob) and serve.py. No server is needed to use it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", metavar="DIR", help="folder to write (created)")
    p.add_argument("--model", action="append", default=[], metavar="M", choices=PAGE_MODELS,
                   help=f"model to include (repeatable; default {PAGE_MODELS[0]}); "
                   f"one of: {', '.join(PAGE_MODELS)}")
    p.add_argument("--offline", action="store_true",
                   help="use only what is cached (no download)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from alphacut.interfaces.progress import DownloadBar
    from alphacut.models.registry import get_spec
    from alphacut.web.export import export_site
    from alphacut.web.models import PAGE_MODELS, is_copyleft

    models = args.model or [PAGE_MODELS[0]]
    for name in models:
        spec = get_spec(name)
        if is_copyleft(spec.license):
            print(f"alphacut: note: {name}'s weights are {spec.license}; publishing this site "
                  "distributes them (see its license.txt)", file=sys.stderr)
    dest = Path(args.dir)
    written = export_site(dest, models, progress=DownloadBar(),
                          offline=True if args.offline else None)
    size = sum(p.stat().st_size for p in written)
    print(f"alphacut: wrote {len(written)} files ({size / 1e6:.1f} MB) to {dest}/; serve it "
          f"with: cd {dest} && python serve.py 8000")
    return 0
