"""The library front door: ``remove(image)``, ``save(result, path)`` and a reusable ``Remover``.

``Remover`` is the engine (``alphacut.engine.Engine``): one model and its passes, sessions
kept for reuse, the stages in their one order.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alphacut.config import Config
from alphacut.engine import Engine
from alphacut.engine.image import ImageSource
from alphacut.engine.passes import plan_passes
from alphacut.models.registry import get_spec
from alphacut.types import Result

Remover = Engine
"""``Remover(model="u2netp", preset="fast")``; ``.remove(src)`` -> Result, ``.process(src)``
-> (Result, bytes), ``.render(result)`` -> bytes. See :class:`alphacut.engine.Engine`."""

_ENGINES: dict[tuple[Any, ...], Engine] = {}
_LOCK = threading.Lock()


def remove(source: ImageSource, **options: Any) -> Result:
    """Remove the background of one image; sessions are cached between calls.

    ``source``: a path, bytes, a PIL image or an ``ndarray`` (``uint8 (H, W, 3|4)``).
    Options are the flat names of :class:`alphacut.config.Config` (``model``, ``preset``...).
    Returns a :class:`alphacut.types.Result` (``.rgba``, ``.alpha``, ``.soft``, ``.timings``).
    """
    config = Config.build(**options)
    spec = get_spec(config.model)
    key = (spec, plan_passes(spec, config.refine), config.runtime.threads)
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:  # only what fixes the passes: every other option is per call
            base = Config.build(model=config.model, ensemble=config.refine.ensemble,
                                tta_flip=config.refine.tta_flip, threads=config.runtime.threads)
            engine = _ENGINES[key] = Engine(base)
    return engine.remove(source, **{k: v for k, v in options.items() if k != "model"})


def save(result: Result, path: str | Path, **options: Any) -> Path:
    """Encode ``result`` (format from the file extension unless ``format`` is given) and write
    it atomically; the bytes equal what ``alphacut remove`` writes for the same options."""
    from alphacut.core.decode import decode
    from alphacut.core.encode import format_for_path, write_atomic
    from alphacut.engine.stages import render

    path = Path(path)
    options.setdefault("format", format_for_path(path))
    config = Config.build(model=result.model if _known(result.model) else None, **options)
    output = config.output
    background = decode(output.bg_image, max_pixels=config.max_pixels).rgb if (
        output.bg_image and not output.mask_only) else None
    write_atomic(path, render(result, output, background))
    return path


def save_layers(result: Result, path: str | Path, **options: Any) -> list[Path]:
    """One PNG per subject of ``result`` beside ``path`` (``{stem}-{n}.png``, from 1 in
    reading order) and ``{stem}-layers.json`` (boxes, areas, files); ``path`` itself is not
    written. Output options such as ``feather``, ``crop`` and ``size`` apply. Returns the
    paths, manifest last."""
    from alphacut.core.layers import write_layers

    config = Config.build(**{**options, "layers": True, "format": "png"})
    return write_layers(result, config.output, Path(path))


def layers(result: Result, **options: Any) -> list[Any]:
    """The subjects of ``result``'s matte as :class:`alphacut.core.layers.Layer` (index, box
    ``(x, y, width, height)``, area, ``alpha`` on the output's canvas: full size unless layout
    options such as ``crop`` or ``size`` are given), in reading order."""
    from alphacut.core.layers import result_layers

    return result_layers(result, Config.build(**options).output)


def _known(name: str) -> bool:
    try:
        get_spec(name)
    except Exception:
        return False
    return True


__all__ = ["Remover", "layers", "remove", "save", "save_layers"]
