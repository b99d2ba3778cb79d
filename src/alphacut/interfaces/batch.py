"""Batch: many inputs to many outputs, each failure reported, the rest carried on.

``run_pipeline`` overlaps the stages of consecutive images: while image *n* is in the model
(ONNX Runtime releases the GIL), image *n + 1* is read, decoded and resized on a loader thread
and image *n - 1* is refined, encoded and written on a finisher thread. Outcomes come back in
input order. ``choose_workers`` picks how many images run the model at once.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphacut.errors import AlphacutError, InternalError, OutputError
from alphacut.formats import INPUT_SUFFIXES as IMAGE_SUFFIXES
from alphacut.interfaces.jobs import Job, Outcome
from alphacut.interfaces.naming import TEMPLATE_FIELDS  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from alphacut.engine import Engine, Inferred, Prepared


def expand_inputs(inputs: Iterable[str], *, recursive: bool = True) -> Iterator[Job]:
    """Files, globs and folders -> jobs, in a stable order; missing inputs become jobs too so
    they are reported as failures rather than silently dropped."""
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            yield from _folder_jobs(path, recursive)
        elif _is_magic(item):
            matches = bounded_glob(item)
            for match in matches:
                if match.is_file():
                    yield Job(match, Path(match.name))
            if not matches:
                yield Job(path, Path(path.name))
        else:
            yield Job(path, Path(path.name))


def _is_magic(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def bounded_glob(pattern: str) -> list[Path]:
    """Paths matching ``pattern``, sorted; ``**`` spans any number of folders.

    Like ``glob.glob(pattern, recursive=True)`` (names starting with a dot only match a
    pattern that starts with one), except that ``**`` never descends into a symlinked
    folder, so a symlink loop cannot make it run forever.
    """
    parts = Path(pattern).parts
    fixed = 0
    while fixed < len(parts) and not _is_magic(parts[fixed]):
        fixed += 1
    rest: list[str] = []
    for part in parts[fixed:]:
        if not (part == "**" and rest and rest[-1] == "**"):  # a/**/**/b is a/**/b
            rest.append(part)
    base = Path(*parts[:fixed]) if fixed else Path()
    return sorted(set(_match(base, tuple(rest), bare=fixed == 0)))


def _match(base: Path, rest: tuple[str, ...], *, bare: bool) -> Iterator[Path]:
    """Paths under ``base`` matching the pattern parts ``rest`` (``bare``: base is '.')."""
    if not rest:
        yield base
        return
    head, tail = rest[0], rest[1:]
    if head == "**":
        yield from _match(base, tail, bare=bare)
        for entry in _entries(base, "*"):
            child = _child(base, entry.name, bare)
            if entry.is_dir(follow_symlinks=False):
                yield from _match(child, rest, bare=False)
            elif not tail:  # a trailing ** matches files too
                yield child
    elif _is_magic(head):
        for entry in _entries(base, head):
            child = _child(base, entry.name, bare)
            if not tail or entry.is_dir():
                yield from _match(child, tail, bare=False)
    else:
        child = _child(base, head, bare)
        if os.path.lexists(child):
            yield from _match(child, tail, bare=False)


def _entries(folder: Path, pattern: str) -> list[os.DirEntry[str]]:
    """Entries of ``folder`` whose names match ``pattern`` (no hidden ones unless asked)."""
    hidden = pattern.startswith(".")
    try:
        with os.scandir(folder) as it:
            return [e for e in it if fnmatch.fnmatch(e.name, pattern)
                    and (hidden or not e.name.startswith("."))]
    except OSError:
        return []


def _child(base: Path, name: str, bare: bool) -> Path:
    return Path(name) if bare else base / name


def _folder_jobs(folder: Path, recursive: bool) -> Iterator[Job]:
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, files in walker:
        dirs.sort()
        for name in sorted(files):
            source = Path(root) / name
            if source.suffix.lower() in IMAGE_SUFFIXES and not name.startswith("."):
                yield Job(source, source.relative_to(folder))


def output_path(job: Job, out_dir: Path, template: str, ext: str, model: str) -> Path:
    """Fill the naming template: {stem} {name} {ext} {parent} {relparent} {model}.

    The template is checked first and the name must stay inside ``out_dir``
    (``InvalidOption`` otherwise); see ``alphacut.interfaces.naming``.
    """
    from alphacut.interfaces.naming import check_template, relative_name

    return out_dir / relative_name(check_template(template), job, ext, model)


def failure(job: Job, exc: Exception) -> Outcome:
    """An exception raised for ``job`` as a failed Outcome (typed error, path in the message)."""
    if isinstance(exc, AlphacutError):
        return Outcome(job, error=exc)
    if isinstance(exc, OSError):
        return Outcome(job, error=OutputError(f"{job.source}: {exc}"))
    return Outcome(job, error=InternalError(f"{job.source}: internal error {exc!r} (a bug in "
                                            "alphacut: please report it)"))


# ---------------------------------------------------------------- pipelined batch


@dataclass(frozen=True)
class Steps:
    """One job split in three for ``run_pipeline``.

    - ``load(job)``: on the loader thread; returns a state, or an ``Outcome`` to stop early
      (a skipped file).
    - ``infer(state)``: on the calling thread, one image at a time (the model).
    - ``finish(job, state, inferred)``: on a finisher thread; returns the ``Outcome``.

    Any exception becomes a failed ``Outcome`` for that job; the batch goes on.
    """

    load: Callable[[Job], Any]
    infer: Callable[[Any], Any]
    finish: Callable[[Job, Any, Any], Outcome]


def _guard(job: Job, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or a failed Outcome whose message starts with the job's path."""
    try:
        return fn(*args)
    except AlphacutError as exc:
        exc.args = (f"{job.source}: {exc}",)
        return failure(job, exc)
    except Exception as exc:
        return failure(job, exc)


def run_pipeline(jobs: list[Job], steps: Steps, *, workers: int = 1, depth: int | None = None,
                 on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run every job through ``steps``, loading and finishing overlapping inference.

    Three thread pools of ``workers`` threads each (load, model, finish) pass every image
    along; at most ``depth`` images (default ``workers + 2``) are in flight, which bounds
    memory. With ``workers=1`` the model sees one image at a time (give it all the cores);
    with ``workers=2`` two images infer at once (give each session run fewer threads).
    Each finisher's refine step uses at most ``cores // workers`` threads
    (:func:`finish_threads`): the model keeps the cores busy meanwhile, and more threads
    would only contend with it. Returns the outcomes in input order; ``on_done`` is called
    in that order on the calling thread.
    """
    outcomes: list[Outcome] = []
    for outcome in iter_pipeline(jobs, steps, workers=workers, depth=depth):
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes


def iter_pipeline(jobs: list[Job], steps: Steps, *, workers: int = 1,
                  depth: int | None = None, cores: int | None = None) -> Iterator[Outcome]:
    """``run_pipeline``'s outcomes, yielded in input order as each one is done (the Ray
    fused actor streams its rows back this way, one finished item at a time). ``cores``:
    the CPUs this pipeline may use (default: the machine's; a Ray actor's ``num_cpus``)."""
    if len(jobs) <= 1:  # nothing to overlap: no threads
        for job in jobs:
            yield _run_one(job, steps)
        return
    workers = max(1, workers)
    depth = max(workers, depth or workers + 2)
    steps = _limit_finish(steps, finish_threads(workers, cores))
    with ThreadPoolExecutor(workers, thread_name_prefix="alphacut-load") as loader, \
            ThreadPoolExecutor(workers, thread_name_prefix="alphacut-model") as model, \
            ThreadPoolExecutor(workers, thread_name_prefix="alphacut-finish") as finisher:
        pools = (loader, model, finisher)
        in_flight: deque[Future[Outcome]] = deque()
        for job in jobs:
            in_flight.append(_start(job, steps, pools))
            while len(in_flight) >= depth or (in_flight and in_flight[0].done()):
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def finish_threads(workers: int, cores: int | None = None) -> int:
    """Threads a finisher's refine step may use while ``workers`` images are in the model:
    ``cores`` (default: the machine's) shared out, at least 1 (on 2 cores and 2 workers: 1,
    so refine of image *n* runs beside the inference of image *n + 1* instead of competing
    with it; a 1-CPU Ray actor: 1)."""
    from alphacut.runtime.session import default_threads

    return max(1, (cores or default_threads()) // max(1, workers))


def _limit_finish(steps: Steps, threads: int) -> Steps:
    """``steps`` whose ``finish`` runs within ``tiles.limited_threads(threads)``."""
    from alphacut.core.refine.tiles import limited_threads

    def finish(job: Job, state: Any, inferred: Any) -> Outcome:
        with limited_threads(threads):
            return steps.finish(job, state, inferred)

    return Steps(steps.load, steps.infer, finish)


def _start(job: Job, steps: Steps, pools: tuple[ThreadPoolExecutor, ...]) -> Future[Outcome]:
    """Chain load -> infer -> finish for one job across the pools; a future of its Outcome."""
    loader, model, finisher = pools
    final: Future[Outcome] = Future()

    def settle(outcome: Outcome) -> None:
        if not final.done():
            final.set_result(outcome)

    def then(future: Future[Any], step: Callable[[Any], None]) -> None:
        def callback(done: Future[Any]) -> None:
            try:
                value = done.result()
                if isinstance(value, Outcome):
                    settle(value)
                else:
                    step(value)
            except Exception as exc:  # a bug in the chain must not hang the batch
                settle(failure(job, exc))

        future.add_done_callback(callback)

    def after_load(state: Any) -> None:
        then(model.submit(_guard, job, steps.infer, state), lambda y: after_infer(state, y))

    def after_infer(state: Any, inferred: Any) -> None:
        then(finisher.submit(_guard, job, steps.finish, job, state, inferred), settle)

    then(loader.submit(_guard, job, steps.load, job), after_load)
    return final


def choose_workers(count: int, *, jobs: int | None = None, threads: int | None = None
                   ) -> tuple[int, int | None]:
    """(images in the model at once, ONNX Runtime threads per run) for ``count`` images.

    One image gets every core (``threads`` None: the session's default). A batch runs one
    image per core, each session run on ``cores // workers`` threads: on 2 cores, two
    single-threaded runs side by side (with decode/encode overlapped) gave 20-25% more
    images/s than one two-threaded run with the same overlap (u2netp, 1 MP photos).
    """
    if count <= 1:
        return 1, threads
    from alphacut.runtime.session import default_threads

    cores = default_threads()
    workers = max(1, min(count, jobs or cores))
    return workers, threads or max(1, cores // workers)


def _run_one(job: Job, steps: Steps) -> Outcome:
    state = _guard(job, steps.load, job)
    if isinstance(state, Outcome):
        return state
    inferred = _guard(job, steps.infer, state)
    if isinstance(inferred, Outcome):
        return inferred
    result: Outcome = _guard(job, steps.finish, job, state, inferred)
    return result


def engine_steps(engine: Engine, destination: Callable[[Job], Path | Outcome],
                 refuse: Iterable[Path] = ()) -> Steps:
    """Steps that decode, remove the background with ``engine`` and write the file.

    ``destination(job)`` gives the output path, or an ``Outcome`` to skip the job (it may
    raise to fail it). Timings per stage (plus ``write``) land in ``Outcome.timings``. With
    ``layers`` the planned path stands for its layer files (none may be in ``refuse``).
    """
    from alphacut.core.encode import write_atomic

    engine.load()  # every pass's session, before any thread starts

    def load(job: Job) -> tuple[Prepared, Path] | Outcome:
        dest = destination(job)
        if isinstance(dest, Outcome):
            return dest
        timings: dict[str, float] = {}
        return engine.prepare(engine.decode(job.source, timings), timings), dest

    def infer(state: tuple[Prepared, Path]) -> Inferred:
        return engine.infer([state[0]])[0]

    def finish(job: Job, state: tuple[Prepared, Path], inferred: Inferred) -> Outcome:
        item, dest = state
        if engine.config.output.layers:  # issue 13: {stem}-{n}.png + {stem}-layers.json
            return _finish_layers(engine, job, item, inferred, dest, refuse)
        data = engine.render(engine.finish(item, inferred))
        start = time.perf_counter()
        write_atomic(dest, data)
        item.timings["write"] = time.perf_counter() - start
        return Outcome(job, output=dest, timings=item.timings)

    return Steps(load, infer, finish)


def _finish_layers(engine: Engine, job: Job, item: Prepared, inferred: Inferred, dest: Path,
                   refuse: Iterable[Path]) -> Outcome:
    """Write the layers and manifest that stand for ``dest``; the Outcome names the manifest."""
    from alphacut.core.layers import write_layers

    result = engine.finish(item, inferred)
    start = time.perf_counter()
    paths = write_layers(result, engine.config.output, dest, refuse)
    item.timings["write"] = time.perf_counter() - start
    return Outcome(job, output=paths[-1], timings=item.timings)
