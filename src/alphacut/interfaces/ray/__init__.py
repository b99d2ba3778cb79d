"""The batch on a Ray cluster (``alphacut[ray]``): ``remove IN... -o OUT --engine ray``.

Modules: ``storage`` (paths and ``s3://`` URLs), ``plan`` (naming, skip rules, resume),
``manifest`` (what is done), ``fused`` (the default: actors running whole items),
``tasks`` (the split layout: the engine's stages as Ray Data row functions),
``pipeline`` (the Ray Data graph; with ``runner``, the only modules importing ``ray``),
``runner`` (the driver), ``report`` (progress and summary), ``cli`` (flags and argv glue).

Importing this package imports neither ray nor numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphacut.interfaces.ray.report import Summary


def remove_many(inputs: str | list[str], output: str, *, name: str = "{stem}.{ext}",
                skip_existing: bool = False, overwrite: bool = False, recursive: bool = True,
                address: str | None = None, actors: int | None = None,
                manifest: str | None = None, progress: bool = False,
                split_stages: bool = False, **options: Any
                ) -> Summary:
    """Remove the background of every image in ``inputs`` (files, folders, globs, ``s3://``
    prefixes) into ``output`` (a folder or ``s3://`` prefix) on Ray.

    ``options`` are the flat image options (``model``, ``preset``, ``format``, ``bg``...).
    ``address``: a running cluster (``"auto"``, ``"ray://head:10001"``); default: the Ray
    already initialised in this process, else a local one. Rerunning with the same arguments
    resumes: finished items are not redone. By default each actor runs whole items (read,
    decode, model, refine, encode, write: the fused layout, 0.88 of the local batch's speed
    on 2 cores); ``split_stages=True``: load, infer and finish as three Ray Data stages
    (tasks, an actor pool, tasks; 0.62, docs/ray.md). Returns the
    ``Summary`` (``exit_code`` 0 when nothing failed); per-item failures are in it, not
    raised.
    """
    from alphacut.config import Config
    from alphacut.interfaces.ray.plan import Rules
    from alphacut.interfaces.ray.runner import RunOptions, run

    if skip_existing and overwrite:
        from alphacut.errors import InvalidOption

        raise InvalidOption("skip_existing and overwrite exclude each other")
    config = Config.build(**options)
    run_options = RunOptions(output=output, template=name, recursive=recursive,
                             rules=Rules(skip_existing=skip_existing, overwrite=overwrite),
                             address=address, actors=actors, manifest=manifest,
                             show_progress=progress, split_stages=split_stages)
    return run([inputs] if isinstance(inputs, str) else list(inputs), config, run_options)


__all__ = ["remove_many"]
