"""``alphacut remove``: argv -> Config -> Remover, for one file, stdin, or a whole batch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphacut.config import Config
from alphacut.errors import InvalidImage, InvalidOption, OutputError
from alphacut.formats import OUTPUT_SUFFIXES
from alphacut.interfaces.batch import (
    Job,
    Outcome,
    choose_workers,
    engine_steps,
    expand_inputs,
    run_pipeline,
)
from alphacut.interfaces.cli_options import DEFAULT_OUT_DIR, choose_format, config_from_args
from alphacut.interfaces.naming import plan_destinations

if TYPE_CHECKING:
    from alphacut.engine import Engine

def single_file_target(args: argparse.Namespace) -> Path | None:
    """-o names one output file when there is one plain input and -o has an image suffix."""
    out = args.output
    if out is None or out == "-" or len(args.inputs) != 1:
        return None
    source = Path(args.inputs[0])
    if source.is_dir() or any(ch in args.inputs[0] for ch in "*?["):
        return None
    target = Path(out)
    is_file = target.suffix.lower() in OUTPUT_SUFFIXES and not target.is_dir()
    return target if is_file else None


def run(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "local") == "ray":
        from alphacut.interfaces.ray.cli import run as ray_run

        return ray_run(args)
    if args.inputs == ["-"]:
        return _run_stdio(args)
    if "-" in args.inputs:
        raise InvalidOption("'-' (stdin) cannot be mixed with other inputs")
    target = single_file_target(args)
    fmt = choose_format(args, target)
    if target is not None and args.format:
        from alphacut.core.encode import format_for_path

        if format_for_path(target) != args.format:
            raise InvalidOption(f"-o {target} does not match --format {args.format}")
    config = config_from_args(args, fmt)
    if args.output == "-":
        raise InvalidOption("-o - (stdout) works with stdin input only: alphacut remove - -o -")
    if target is None:
        _refuse_file_as_folder(args)
    jobs = unique_jobs(expand_inputs(args.inputs, recursive=not args.no_recursive))
    if not jobs:
        raise InvalidOption("no input images found")
    out_dir = Path(args.output or DEFAULT_OUT_DIR)
    return _run_files(args, config, jobs, target, out_dir)


def _refuse_file_as_folder(args: argparse.Namespace) -> None:
    """-o with an image suffix (result.png) for a folder, a glob or several inputs: an error,
    not a folder named result.png (an existing folder of that name is fine)."""
    out = Path(args.output) if args.output else None
    if out is None or out.suffix.lower() not in OUTPUT_SUFFIXES or out.is_dir():
        return
    if len(args.inputs) > 1:
        what = f"there are {len(args.inputs)} inputs"
    elif Path(args.inputs[0]).is_dir():
        what = "the input is a folder"
    else:
        what = "the input is a glob"
    raise InvalidOption(f"-o {out} names a file but {what}; give -o a folder")


def unique_jobs(jobs: Iterable[Job]) -> list[Job]:
    """Jobs in order, each input file once (a.jpg given twice, or by a glob and by name)."""
    seen: set[Path] = set()
    unique = []
    for job in jobs:
        key = job.source.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(job)
    return unique


def _run_stdio(args: argparse.Namespace) -> int:
    from alphacut.api import Remover
    from alphacut.core.encode import write_atomic

    target = None if args.output in (None, "-") else Path(args.output)
    fmt = choose_format(args, target)
    config = config_from_args(args, fmt)
    remover = Remover(config, progress=_download_callback(args))
    check_background(remover)
    data = sys.stdin.buffer.read()
    result, encoded = remover.process(data)
    if target is None:
        write_stdout(encoded)  # with --layers: the zip of layers and manifest
    elif config.output.layers:
        from alphacut.core.layers import write_layers

        write_layers(result, config.output, target)
    else:
        write_atomic(target, encoded)
    return 0


def write_stdout(data: bytes) -> None:
    """``data`` to stdout; a full disk or a closed pipe is an ``OutputError``, no traceback."""
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except (OSError, ValueError, AttributeError) as exc:  # full, broken pipe, closed, none
        _silence_stdout()
        reason = "it is closed" if not isinstance(exc, OSError) else \
            exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write the result to stdout: {reason}") from exc


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def check_background(remover: Engine) -> None:
    """Decode the --bg image once, before any input: a bad one fails the run up front."""
    path = remover.config.output.bg_image
    try:
        remover.background()
    except InvalidImage as exc:
        message = str(exc)
        named = message if message.startswith(f"{path}") else f"{path}: {message}"
        raise type(exc)(f"--bg {named}") from exc


def _run_files(args: argparse.Namespace, config: Config, jobs: list[Job], target: Path | None,
               out_dir: Path) -> int:
    from alphacut.api import Remover
    from alphacut.core.encode import EXTENSIONS
    from alphacut.interfaces.progress import file_progress
    from alphacut.models.registry import get_spec

    ext = EXTENSIONS[config.output.format]
    inputs = {job.source.resolve() for job in jobs if job.source.exists()}
    destinations = plan_destinations(jobs, target, out_dir, args.name, ext,
                                     get_spec(config.model).name, avoid=inputs)
    workers, threads = choose_workers(len(jobs), jobs=args.jobs, threads=args.threads)
    if len(jobs) > 1:  # a batch: freed arrays reused from image to image (runtime/memory.py)
        from alphacut.runtime.memory import tune_allocator

        tune_allocator()
    if threads is not None:
        config = config.replace(threads=threads)
    remover = Remover(config, progress=_download_callback(args))
    if len(jobs) == 1:
        remover.prefetch(jobs[0].source)  # decoded while the session loads (engine_steps)
    check_background(remover)

    def destination(job: Job) -> Path:
        return destinations[job]

    def checked(job: Job) -> Path | Outcome:
        dest = destination(job)
        marker = written_marker(dest, config)
        if marker.resolve() in inputs:
            raise OutputError(f"{marker}: refusing to overwrite an input file")
        if marker.exists():
            if args.skip_existing:
                return Outcome(job, output=marker, skipped=True)
            if not args.overwrite:
                raise OutputError(f"{marker} exists; pass --overwrite or --skip-existing")
        return dest

    show = not args.quiet and len(jobs) > 1
    failures: list[Outcome] = []
    with file_progress(len(jobs), enabled=show) as advance:

        def done(outcome: Outcome) -> None:
            if outcome.error is not None:
                failures.append(outcome)
                _report_failure(outcome, show)
            advance(outcome.job.source.name)

        # decoding and encoding overlap the model; ``workers`` images infer at once (batch.py)
        outcomes = run_pipeline(jobs, engine_steps(remover, checked, refuse=inputs),
                                workers=workers, on_done=done)
    return _summarise(outcomes, failures, args.quiet)


def written_marker(dest: Path, config: Config) -> Path:
    """The file whose presence means ``dest`` was written: ``dest``, or with ``--layers`` its
    ``{stem}-layers.json`` (written last)."""
    if not config.output.layers:
        return dest
    from alphacut.core.layers import manifest_path

    return manifest_path(dest)


def _report_failure(outcome: Outcome, show_progress: bool) -> None:
    message = str(outcome.error)
    print(f"alphacut: failed: {message}", file=sys.stderr)


def _summarise(outcomes: list[Outcome], failures: list[Outcome], quiet: bool) -> int:
    written = sum(1 for o in outcomes if o.error is None and not o.skipped)
    skipped = sum(1 for o in outcomes if o.skipped)
    if not quiet or failures:
        where = {str(o.output.parent) for o in outcomes if o.output and o.error is None}
        place = f" in {', '.join(sorted(where))}" if len(where) == 1 else ""
        print(f"alphacut: {written} written{place}, {skipped} skipped, {len(failures)} failed",
              file=sys.stderr)
    if not failures:
        return 0
    return max(o.error.exit_code for o in failures if o.error is not None)


def _download_callback(args: argparse.Namespace) -> Any:
    """Weights download progress on stderr (first use of a model)."""
    if args.quiet:
        return None
    from alphacut.interfaces.progress import DownloadBar

    return DownloadBar()
