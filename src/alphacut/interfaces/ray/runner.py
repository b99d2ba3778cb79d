"""``remove_many``: plan on the driver, run on Ray, record every outcome in the manifest.

Weights are fetched and verified once on the driver before any cluster work (a missing or
damaged model fails the run at once, with the typed error, instead of in every actor). Each
actor then loads them through the same cache: on one machine, or on nodes sharing
``ALPHACUT_HOME``, that is a read of the verified file; a node with its own disk fetches and
verifies the same pinned sha256 itself, so no shared filesystem is required.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphacut.config import Config
from alphacut.errors import AlphacutError, ClusterError
from alphacut.interfaces.ray import manifest as manifests
from alphacut.interfaces.ray.plan import Plan, Rules, destinations, find_jobs, make_plan
from alphacut.interfaces.ray.report import Counter, Failure, Summary
from alphacut.interfaces.ray.storage import sweep_temps

FORWARDED_ENV = ("ALPHACUT_HOME", "ALPHACUT_OFFLINE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class RunOptions:
    """Everything about a run that is not an image option."""

    output: str
    template: str = "{stem}.{ext}"
    single_file: bool = False
    rules: Rules = field(default_factory=Rules)
    recursive: bool = True
    address: str | None = None
    actors: int | None = None
    manifest: str | None = None
    show_progress: bool = False
    split_stages: bool = False  # True: load and finish as tasks (docs/ray.md)


def run(inputs: list[str], config: Config, options: RunOptions, *, progress: Any = None
        ) -> Summary:
    """Process ``inputs`` into ``options.output`` on Ray; every outcome is in the Summary."""
    from alphacut.core.encode import EXTENSIONS

    found = find_jobs(inputs, recursive=options.recursive)
    dests = destinations(found, options.output, single_file=options.single_file,
                         template=options.template, ext=EXTENSIONS[config.output.format],
                         model=config.model)
    fp = manifests.fingerprint(config, options.template)
    path = Path(options.manifest) if options.manifest else manifests.default_manifest(
        options.output, single_file=options.single_file)
    sweep_temps(options.output if not options.single_file else str(Path(options.output).parent))
    plan = make_plan(found, dests, options.output, manifests.read_history(path, fp),
                     options.rules)
    summary = Summary(total=plan.total, earlier=plan.earlier, manifest=str(path))
    fetch_weights(config, progress)
    record = manifests.Manifest(path, fp).open()
    finished = False
    try:
        _settle(plan, record, summary)
        _execute(plan, config, options, record, summary)
        finished = True
    finally:
        record.close(finished=finished)
    return summary


def fetch_weights(config: Config, progress: Any = None) -> None:
    """Every pass's weights fetched and verified on the driver (typed errors, before Ray)."""
    from alphacut.engine import Engine
    from alphacut.runtime.weights import ensure_weights

    for spec in dict.fromkeys(p.spec for p in Engine(config).passes):
        ensure_weights(spec, progress=progress)


def _settle(plan: Plan, record: manifests.Manifest, summary: Summary) -> None:
    """Record the items decided on the driver (recovered, skipped, refused)."""
    for item in plan.settled:
        if item.status == "failed":
            error = item.error
            code = error.code if isinstance(error, AlphacutError) else "error"
            record.record(item.src, item.dest, "failed", code=code, error=str(error))
            summary.failures.append(Failure(item.src, code, str(error)))
        else:
            record.record(item.src, item.dest, item.status)
            if item.status == "skipped":
                summary.skipped += 1
            else:
                summary.earlier += 1


def _execute(plan: Plan, config: Config, options: RunOptions, record: manifests.Manifest,
             summary: Summary) -> None:
    """Run ``plan.todo`` on Ray, one manifest line per row as it streams back."""
    if not plan.todo:
        return
    started = connect(options.address, quiet=not options.show_progress)
    try:
        from alphacut.interfaces.ray import pipeline

        resources = pipeline.choose_resources(pipeline.cluster_cpus(), options.actors,
                                              config.runtime.threads,
                                              split=options.split_stages)
        recorded: set[str] = set()
        with Counter(summary, len(plan.todo), show=options.show_progress) as counter:
            for row in pipeline.run_rows(plan.todo, config, resources):
                if row["src"] not in recorded:  # a retried call may hand a row back again
                    recorded.add(row["src"])
                    _record_row(row, record, counter)
    except AlphacutError:
        raise
    except Exception as exc:  # Ray's own errors: the job stopped, the manifest stands
        raise ClusterError(f"the Ray run stopped: {exc}; rerun the same command to finish "
                           "the rest (finished items are kept)") from exc
    finally:
        if started:
            import ray

            ray.shutdown()


def _record_row(row: dict[str, Any], record: manifests.Manifest, counter: Counter) -> None:
    if row["code"]:
        record.record(row["src"], row["dest"], "failed", code=row["code"], error=row["error"])
        counter.failed(Failure(row["src"], row["code"], row["error"]))
    else:
        record.record(row["src"], row["dest"], "done")
        counter.written()


def connect(address: str | None, *, quiet: bool) -> bool:
    """Use the Ray already initialised in this process, or join ``address`` (``auto``: the
    cluster ``ray start`` runs here; ``ray://HEAD:10001``; ``HOST:PORT``), or start a local
    one; True if this call connected (and should shut down)."""
    import logging

    import ray

    _data_context(quiet)
    if ray.is_initialized():
        return False
    env = {k: v for k in FORWARDED_ENV if (v := os.environ.get(k))}
    try:
        # "local": always a new local Ray, never a cluster this machine's last run left
        ray.init(address=address or "local",
                 include_dashboard=False if address is None else None,
                 logging_level=logging.WARNING, log_to_driver=not quiet,
                 runtime_env={"env_vars": env} if env else None)
    except Exception as exc:
        raise ClusterError(f"cannot start or reach Ray ({address or 'local'}): {exc}") from exc
    return True


def _data_context(quiet: bool) -> None:
    """Ray Data's own progress bars unless quiet; its per-run INFO lines never."""
    import logging

    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = not quiet
    context.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
