"""The ``alphacut`` command. Thin: it turns argv into a Config and calls the library.

Only argparse and the light model registry are imported at start-up, so ``--help`` and
``--version`` are instant; numpy, OpenCV and ONNX Runtime load when an image is processed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from alphacut import __version__
from alphacut.config import PRESETS
from alphacut.errors import AlphacutError
from alphacut.interfaces import cli_video, cli_web
from alphacut.interfaces.cli_options import add_config_flags, model_licences

EPILOG = """examples:
  alphacut remove photo.jpg -o cutout.png
  alphacut remove shots/ -o out/ --bg white --format jpeg --crop
  cat photo.jpg | alphacut remove - > cutout.png
  alphacut models list
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alphacut", description="Remove the background of images: clean alpha mattes "
        "at full resolution, on a plain CPU.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"alphacut {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_remove(sub)
    _add_models(sub)
    _add_eval(sub)
    cli_video.add_parser(sub)
    _add_serve(sub)
    cli_web.add_parser(sub)
    _add_bench(sub)
    return parser


def _add_remove(sub: Any) -> None:
    p = sub.add_parser("remove", help="remove the background of files, globs or folders",
                       description="Remove the background of images. IN may be files, globs, "
                       "folders (searched recursively) or - for stdin.")
    p.add_argument("inputs", nargs="+", metavar="IN")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file (one input), folder (default: ./alphacut-out), or - for "
                   "stdout")
    p.add_argument("--name", default="{stem}.{ext}", metavar="TEMPLATE",
                   help="output name template: {stem} {name} {ext} {parent} {relparent} {model} "
                   "(default: %(default)s)")
    add_config_flags(p)
    exist = p.add_mutually_exclusive_group()
    exist.add_argument("--skip-existing", action="store_true", help="skip outputs that exist")
    exist.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    p.add_argument("--no-recursive", action="store_true", help="do not descend into folders")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="images in flight at once (default: chosen for this machine)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    from alphacut.interfaces.ray.cli import add_flags as add_cluster_flags

    add_cluster_flags(p)
    p.set_defaults(func=cmd_remove)


def _add_models(sub: Any) -> None:
    p = sub.add_parser("models", help="list, fetch and describe models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lst = msub.add_parser("list", help="name, task, size, licence, cached or not")
    lst.set_defaults(func=cmd_models_list)
    pull = msub.add_parser("pull", help="fetch and verify weights into the cache")
    pull.add_argument("names", nargs="+", metavar="NAME")
    pull.set_defaults(func=cmd_models_pull)
    info = msub.add_parser("info", help="everything about one model")
    info.add_argument("name", metavar="NAME")
    info.set_defaults(func=cmd_models_info)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure quality on datasets with ground truth")
    p.add_argument("datasets", nargs="+", metavar="DATASET_DIR")
    p.add_argument("-m", "--model", action="append",
                   help=f"model(s) to evaluate (repeatable; {model_licences()})")
    p.add_argument("--preset", action="append", choices=list(PRESETS),
                   help="preset(s) to evaluate (repeatable)")
    add_config_flags(p, groups=("refine",))
    p.add_argument("--raw", action="store_true",
                   help="also score each model's raw mask (plain resize) as a baseline")
    p.add_argument("--limit", type=int, help="first N images per set")
    p.add_argument("-o", "--output", default="alphacut-eval", help="report folder")
    p.set_defaults(func=cmd_eval)


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="HTTP API and web page (needs alphacut[server])")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("-m", "--model", help=f"default model ({model_licences()})")
    p.add_argument("--models", help="comma-separated models the server may load (mind each "
                   "model's licence when you serve it)")
    p.add_argument("--concurrency", type=int, default=None, help="images processed at once")
    p.add_argument("--queue", type=int, default=None, help="requests waiting before 503")
    p.add_argument("--max-upload-mb", type=float, default=None)
    p.add_argument("--max-pixels", type=int, default=None)
    p.add_argument("--timeout", type=float, default=None, help="per-request seconds")
    p.add_argument("--threads", type=int, default=None,
                   help="ONNX Runtime threads per image (default: all cores)")
    p.add_argument("--cors", action="append", default=None, metavar="ORIGIN",
                   help="allow this origin (repeatable); CORS is off by default")
    p.add_argument("--allow-host", action="append", default=None, metavar="NAME",
                   help="also answer requests whose Host is NAME (repeatable; '*': any); "
                   "default: loopback names and the bound address")
    p.add_argument("--api-key", action="append", default=None, metavar="KEY",
                   help="require this API key (repeatable; also ALPHACUT_API_KEYS, "
                   "comma-separated); clients send 'Authorization: Bearer KEY'")
    p.add_argument("--header-timeout", type=float, default=None,
                   help="seconds a client may take to send headers (default 10)")
    p.add_argument("--body-timeout", type=float, default=None,
                   help="seconds a client may take to send a whole body (default 60)")
    p.add_argument("--keepalive-timeout", type=float, default=None,
                   help="idle seconds before a keep-alive connection is closed (default 5)")
    p.add_argument("--max-connections", type=int, default=None,
                   help="open connections before new ones get 503 (default 256)")
    p.add_argument("--upload-budget-mb", type=float, default=None,
                   help="MiB of uploads being received at once before 503 (default: 4 full "
                   "uploads, at least 128)")
    p.add_argument("--no-access-log", action="store_true",
                   help="no JSON access log lines on stderr")
    p.set_defaults(func=cmd_serve)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="time alphacut (and rembg, if set up) end to end")
    p.add_argument("rest", nargs=argparse.REMAINDER,
                   help="options for benchmarks/run.py (e.g. --quick)")
    p.set_defaults(func=cmd_bench)


# ---------------------------------------------------------------- remove


def cmd_remove(args: argparse.Namespace) -> int:
    from alphacut.interfaces import cli_remove

    return cli_remove.run(args)


# ---------------------------------------------------------------- models


def cmd_models_list(args: argparse.Namespace) -> int:
    from alphacut.models.registry import DEFAULT_MODEL, list_models
    from alphacut.runtime.weights import cached_path

    header = ("name", "task", "size", "licence", "cached", "notes")
    rows = []
    for spec in list_models():
        size = f"{spec.size_bytes / 1e6:.1f} MB" if spec.size_bytes else "?"
        notes = [n for n, on in (("default", spec.name == DEFAULT_MODEL),
                                 ("upstream only", not spec.available_here)) if on]
        rows.append((spec.name, spec.task, size, spec.license,
                     "yes" if cached_path(spec) else "no", ", ".join(notes)))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="alphacut models")
        for column in header:
            table.add_column(column, no_wrap=True)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    from alphacut.interfaces.progress import download_progress
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    failed = 0
    for name in args.names:
        try:
            spec = get_spec(name)
            with download_progress() as progress:
                path = ensure_weights(spec, progress=progress)
            print(f"{spec.name}: {path} (sha256 verified, licence {spec.license})")
        except AlphacutError as exc:
            print(f"alphacut: {name}: {exc}", file=sys.stderr)
            failed = max(failed, exc.exit_code)
    return failed


def cmd_models_info(args: argparse.Namespace) -> int:
    from alphacut.models.registry import DEFAULT_MODEL, get_spec
    from alphacut.runtime.weights import cache_dir, cached_path

    spec = get_spec(args.name)
    cached = cached_path(spec)
    rows = [
        ("name", spec.name + (" (default)" if spec.name == DEFAULT_MODEL else "")),
        ("description", spec.description), ("family", spec.family), ("task", spec.task),
        ("licence", spec.license),
        ("size", f"{spec.size_bytes:,} bytes" if spec.size_bytes else "unknown"),
        ("sha256", spec.sha256 or "not pinned"),
        ("input", f"{spec.input_size[0]}x{spec.input_size[1]} ({spec.resize}), "
                  f"scale {spec.scale}, mean {spec.mean}, std {spec.std}"),
        ("output", f"index {spec.output_index}, activation {spec.activation}"),
        ("cached", str(cached) if cached else f"no (would be {cache_dir() / spec.filename})"),
    ]
    rows += [(f"source {i + 1}", src.describe()) for i, src in enumerate(spec.sources)]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


# ---------------------------------------------------------------- eval / serve / bench


def cmd_eval(args: argparse.Namespace) -> int:
    from alphacut.interfaces import cli_eval

    return cli_eval.run(args)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from alphacut.interfaces.server.run import serve
    except ImportError as exc:
        print(f"alphacut: the server needs extra packages: pip install 'alphacut[server]' "
              f"({exc})", file=sys.stderr)
        return 3
    return serve(args)


def cmd_bench(args: argparse.Namespace) -> int:
    import runpy

    script = Path(__file__).resolve().parents[3] / "benchmarks" / "run.py"
    if not script.exists():
        print("alphacut: benchmarks/run.py is part of the source tree; run from a checkout",
              file=sys.stderr)
        return 2
    sys.argv = [str(script), *args.rest]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv[:1] == ["bench"] and argv[1:2] != ["-h"] and argv[1:2] != ["--help"]:
        # every later word belongs to benchmarks/run.py, flags included
        return cmd_bench(argparse.Namespace(rest=[a for a in argv[1:] if a != "--"]))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AlphacutError as exc:
        print(f"alphacut: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("alphacut: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
