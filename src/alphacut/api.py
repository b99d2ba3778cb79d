"""The library front door: ``remove(image)`` and a reusable ``Remover``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alphacut.config import Config
from alphacut.core import pipeline
from alphacut.models.registry import get_spec
from alphacut.models.spec import ModelSpec
from alphacut.types import RGB, Result

ImageSource = Any  # str | Path | bytes | PIL.Image.Image | np.ndarray | binary file object
ProgressFn = Callable[[str, int, int | None], None]


class Remover:
    """Removes backgrounds with one model, keeping its session for reuse (thread-safe).

    >>> remover = Remover(model="u2netp")          # doctest: +SKIP
    >>> result = remover.remove("photo.jpg")       # doctest: +SKIP
    >>> result.rgba.shape                          # (H, W, 4) uint8  # doctest: +SKIP
    """

    def __init__(self, config: Config | None = None, *, progress: ProgressFn | None = None,
                 **options: Any) -> None:
        base = config or Config()
        self.config = base.replace(**options) if options else base
        self._progress = progress
        self._session: Any = None
        self._lock = threading.Lock()
        self._backgrounds: dict[str, RGB] = {}

    @property
    def spec(self) -> ModelSpec:
        return get_spec(self.config.model)

    @property
    def session(self) -> Any:
        """The model session, loaded (and fetched) on first use."""
        if self._session is None:
            from alphacut.runtime.session import load_session

            with self._lock:
                if self._session is None:
                    self._session = load_session(self.spec, threads=self.config.runtime.threads,
                                                 progress=self._progress)
        return self._session

    def remove(self, source: ImageSource, **options: Any) -> Result:
        """Decode ``source`` and estimate its matte; options override this Remover's config
        (refinement and limits only; the model is fixed per Remover)."""
        config = self._config_for(options)
        timings: dict[str, float] = {}
        decoded = pipeline.run_timed(timings, "decode", _decode, source, config.max_pixels)
        return pipeline.estimate(decoded, self.session, config.refine, timings)

    def render(self, result: Result, **options: Any) -> bytes:
        """Encode ``result`` as this config (or ``options``) asks: cut-out, mask, or over bg."""
        config = self._config_for(options)
        return pipeline.render(result, config.output, self._background(config))

    def process(self, source: ImageSource, **options: Any) -> tuple[Result, bytes]:
        """``remove`` then ``render``, for front doors that want bytes out."""
        result = self.remove(source, **options)
        return result, self.render(result, **options)

    def _config_for(self, options: dict[str, Any]) -> Config:
        if not options:
            return self.config
        config = self.config.replace(**options)
        if config.model != self.config.model:
            from alphacut.errors import InvalidOption

            raise InvalidOption("a Remover keeps one model; make another Remover for "
                                f"{config.model!r}")
        return config

    def _background(self, config: Config) -> RGB | None:
        path = config.output.bg_image
        if path is None or config.output.mask_only:
            return None
        if path not in self._backgrounds:
            self._backgrounds[path] = _decode(path, config.max_pixels).rgb
        return self._backgrounds[path]


def _decode(source: ImageSource, max_pixels: int) -> Any:
    from alphacut.core.decode import decode

    return decode(source, max_pixels=max_pixels)


_DEFAULT_REMOVERS: dict[str, Remover] = {}
_DEFAULT_LOCK = threading.Lock()


def remove(source: ImageSource, **options: Any) -> Result:
    """Remove the background of one image; sessions are cached per model between calls.

    ``source``: a path, bytes, a PIL image or an ``ndarray`` (``uint8 (H, W, 3|4)``).
    Options are the flat names of :class:`alphacut.config.Config` (``model``, ``preset``...).
    Returns a :class:`alphacut.types.Result` (``.rgba``, ``.alpha``, ``.mask``, ``.timings``).
    """
    config = Config.build(**options)
    with _DEFAULT_LOCK:
        remover = _DEFAULT_REMOVERS.get(config.model)
        if remover is None:
            remover = _DEFAULT_REMOVERS[config.model] = Remover(Config.build(model=config.model))
    rest = {k: v for k, v in options.items() if k != "model"}
    return remover.remove(source, **rest)


def save(result: Result, path: str | Path, **options: Any) -> Path:
    """Encode ``result`` (format from the file extension unless ``format`` is given) and write
    it atomically."""
    from alphacut.core.encode import format_for_path, write_atomic

    path = Path(path)
    options.setdefault("format", format_for_path(path))
    config = Config.build(model=result.model if _known(result.model) else None, **options)
    background = _decode(config.output.bg_image, config.max_pixels).rgb if (
        config.output.bg_image and not config.output.mask_only) else None
    write_atomic(path, pipeline.render(result, config.output, background))
    return path


def _known(name: str) -> bool:
    try:
        get_spec(name)
    except Exception:
        return False
    return True


__all__ = ["Remover", "remove", "save"]
