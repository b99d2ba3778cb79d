"""``alphacut remove ... --engine ray``: the flags, and argv -> ``runner.run``."""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

from alphacut.errors import InvalidOption
from alphacut.formats import OUTPUT_SUFFIXES


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The cluster flags of ``alphacut remove`` (every image option stays the local one)."""
    group = parser.add_argument_group("cluster (alphacut[ray])")
    group.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="run here (default) or on Ray: a local Ray, or --ray-address; "
                       "IN and -o may then be s3:// URLs")
    group.add_argument("--ray-address", metavar="ADDR", default=None,
                       help="a running Ray cluster (auto, ray://HEAD:10001, HOST:PORT)")
    group.add_argument("--actors", type=int, default=None, metavar="N",
                       help="inference actors (default: one per --threads CPUs of the "
                       "cluster; --threads is each actor's ONNX Runtime threads, default 1)")
    group.add_argument("--manifest", metavar="PATH", default=None,
                       help="resume record (default: OUT/.alphacut-manifest.jsonl; for s3:// "
                       "outputs, in the local cache)")
    group.add_argument("--ray-split-stages", action="store_true",
                       help="load and finish as Ray tasks around the inference actors "
                       "(default: each actor reads, infers, refines and writes whole images, "
                       "the faster layout; docs/ray.md)")


def run(args: argparse.Namespace) -> int:
    """The CLI's ``--engine ray`` path; the exit code says whether any item failed."""
    from alphacut.interfaces.cli_options import DEFAULT_OUT_DIR, choose_format, config_from_args
    from alphacut.interfaces.ray.plan import Rules
    from alphacut.interfaces.ray.report import print_summary
    from alphacut.interfaces.ray.runner import RunOptions
    from alphacut.interfaces.ray.runner import run as run_ray

    if "-" in args.inputs or args.output == "-":
        raise InvalidOption("--engine ray reads and writes files or URLs, not stdin/stdout")
    if args.actors is not None and args.actors < 1:
        raise InvalidOption("--actors must be at least 1")
    output = args.output or DEFAULT_OUT_DIR
    single = single_target(args.inputs, output)
    fmt = choose_format(args, Path(output) if single else None)
    if single and args.format and fmt != _suffix_format(output):
        raise InvalidOption(f"-o {output} does not match --format {args.format}")
    config = config_from_args(args, fmt)
    if config.output.layers:  # issue 13: one file per subject is planned by the local batch
        raise InvalidOption("--layers works with the local engine only, not --engine ray")
    options = RunOptions(output=output, template=args.name, single_file=single,
                         rules=Rules(skip_existing=args.skip_existing, overwrite=args.overwrite),
                         recursive=not args.no_recursive, address=args.ray_address,
                         actors=args.actors, manifest=args.manifest,
                         show_progress=not args.quiet,
                         split_stages=args.ray_split_stages)
    summary = run_ray(args.inputs, config, options, progress=_download_bar(args.quiet))
    print_summary(summary, output, quiet=args.quiet)
    return summary.exit_code


def single_target(inputs: list[str], output: str) -> bool:
    """-o names one file: one plain input (no folder, glob or prefix) and an image suffix."""
    from alphacut.interfaces.ray.storage import is_url

    if len(inputs) != 1 or PurePosixPath(output).suffix.lower() not in OUTPUT_SUFFIXES:
        return False
    source = inputs[0]
    if any(ch in source for ch in "*?["):
        return False
    if is_url(source):
        return PurePosixPath(source).suffix != ""
    return not Path(source).is_dir() and (is_url(output) or not Path(output).is_dir())


def _suffix_format(output: str) -> str:
    from alphacut.core.encode import format_for_path

    return format_for_path(output)


def _download_bar(quiet: bool) -> object:
    if quiet:
        return None
    from alphacut.interfaces.progress import DownloadBar

    return DownloadBar()
