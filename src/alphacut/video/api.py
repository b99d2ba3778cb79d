"""The library's video front door: ``remove_video(src, dst)`` and ``iter_video(src)``.

>>> report = remove_video("clip.mp4", "cutout.webm")             # doctest: +SKIP
>>> for item in iter_video("clip.mp4", model="u2netp"):           # doctest: +SKIP
...     item.result.alpha      # float32 (H, W) in [0, 1], temporally stabilised
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from alphacut.config import Config
from alphacut.video.formats import ANIMATION_SUFFIXES, CONTAINER_SUFFIXES
from alphacut.video.runner import Encoder, FrameResult, Meter, Stages
from alphacut.video.temporal import TemporalParams

ProgressFn = Callable[[int, "int | None", float], None]
VIDEO_PRESET = "fast"
"""The video path's default refinement: the model's mask, temporally smoothed. Band matting
costs more per 480p frame than u2netp's forward pass and flickers (docs/video.md); ask for
``preset="balanced"`` (or ``matting=True``) to have it."""


def video_config(options: dict[str, Any]) -> Config:
    """``Config`` from flat options, with ``VIDEO_PRESET`` unless a preset is given."""
    return Config.build(**{"preset": VIDEO_PRESET, **{k: v for k, v in options.items()
                                                       if v is not None}})


@dataclass
class VideoReport:
    """What a run did: output path, frames written, wall seconds, frames per second, whether
    sound was carried, and the mean seconds per frame of each stage."""

    output: Path
    format: str
    frames: int
    seconds: float
    fps: float
    audio: bool
    stage_seconds: dict[str, float] = field(default_factory=dict)


def iter_video(src: str | Path, *, temporal: bool | TemporalParams = True,
               fps: float | None = None, compose: bool = False, background: Any = None,
               config: Config | None = None, **options: Any) -> Iterator[FrameResult]:
    """Yield a ``FrameResult`` per input frame, in order (``.result.alpha`` ``float32 (H, W)``,
    ``.result.rgba`` ...). ``temporal``: smooth the mask between frames (or the parameters
    to do it with: ``TemporalParams(lookahead=0)`` for the causal filter, which gives each
    frame as soon as its model pass is done; the default window filter yields a frame once
    the next ``lookahead`` ones are through the model); ``fps``: the rate of a folder of
    frames; other options are the flat names of :class:`alphacut.config.Config`.
    ``compose`` also fills ``.pixels``."""
    from alphacut.video.opening import open_video

    config = config or video_config(options)
    with open_video(src, max_pixels=config.max_pixels,
                    fps=Fraction(fps).limit_denominator(1001) if fps else None) as reader:
        yield from _run(reader, config, temporal, compose=compose, background=background)


def _run(reader: Any, config: Config, temporal: bool | TemporalParams, *, compose: bool,
         background: Any) -> Iterator[FrameResult]:
    from alphacut.video.finisher import Finisher
    from alphacut.video.frames import engine_for

    engine = engine_for(config)
    engine.load()
    still = engine.background_image() if compose else None

    def pixels(frame: Any, result: Any) -> Any:
        bg = background.frame_like(frame.rgb) if background is not None else still
        return engine.compose(result, bg)

    finisher = Finisher(engine, temporal_params(temporal), pixels if compose else None)
    yield from Stages(reader, engine, finish=finisher, drain=finisher.drain).results()


def temporal_params(temporal: bool | TemporalParams) -> TemporalParams | None:
    """The filter's parameters for ``temporal`` (True: the defaults; False: None, off)."""
    if isinstance(temporal, TemporalParams):
        return temporal
    return TemporalParams() if temporal else None


def remove_video(src: str | Path, dst: str | Path, *, format: str | None = None,
                 mask: bool = False, bg: Any = None, temporal: bool | TemporalParams = True,
                 audio: bool = True, overwrite: bool = False, fps: float | None = None,
                 progress: ProgressFn | None = None, **options: Any) -> VideoReport:
    """Remove the background of every frame of ``src`` and write ``dst``.

    ``format`` (else ``dst``'s extension): webm (VP9 + alpha), mov (ProRes 4444 + alpha),
    png (a folder of RGBA frames), mp4/mkv (H.264, needs ``bg``), webp, gif. ``mask``: a grey
    matte video. ``bg``: a colour, an image path, or a video path (looped). Sound is copied
    where the container takes it, else re-encoded. ``progress(done, total, fps)`` is called
    per frame. The output appears only when complete.
    """
    from alphacut.video.formats import check_request, format_for_output
    from alphacut.video.opening import open_video, open_writer
    from alphacut.video.writer import frames_cap

    target = Path(dst)
    fmt = format_for_output(target, format)
    background, still_bg = _split_background(bg)
    check_request(fmt, mask=mask, background=bg is not None and bg != "transparent")
    config = video_config({**options, "mask_only": mask or None, "bg": still_bg})
    with contextlib.ExitStack() as stack:
        reader = stack.enter_context(open_video(
            src, max_pixels=config.max_pixels,
            fps=Fraction(fps).limit_denominator(1001) if fps else None))
        frames_cap(fmt, reader.info)
        if background is not None and not mask:
            background = stack.enter_context(_BackgroundVideo(background, config.max_pixels))
        else:
            background = None
        writer = open_writer(target, fmt, reader.info, mask=mask, audio=audio,
                             overwrite=overwrite)
        meter = Meter(reader.info.frames, progress)
        encoder = Encoder(lambda item: writer.write(item.pixels, item.frame))
        frames = _run(reader, config, temporal, compose=True, background=background)
        try:
            for item in frames:
                encoder.put(item)
                meter.tick(item.result)
            encoder.close()
            writer.finish()
        except BaseException:
            frames.close()  # stop the decode and model threads before the input closes
            with contextlib.suppress(BaseException):
                encoder.close()
            writer.abort()
            raise
    done = max(meter.done, 1)
    return VideoReport(output=target, format=fmt.name, frames=meter.done,
                       seconds=meter.seconds, fps=meter.fps, audio=writer.audio_written,
                       stage_seconds={k: v / done for k, v in meter.stage_seconds.items()})


def _split_background(bg: Any) -> tuple[str | None, Any]:
    """(a background video path, or None; what ``Config`` takes as ``bg``)."""
    if isinstance(bg, (str, Path)):
        path = Path(bg)
        if path.is_dir() or path.suffix.lower() in CONTAINER_SUFFIXES | ANIMATION_SUFFIXES:
            if not path.exists():
                from alphacut.errors import InvalidOption

                raise InvalidOption(f"background video {path} not found")
            return str(path), None
        return None, str(bg)
    return None, bg


class _BackgroundVideo:
    """Frames of a background clip, looped when it is shorter than the input."""

    def __init__(self, path: str, max_pixels: int) -> None:
        self.path, self.max_pixels = path, max_pixels
        self.reader: Any = None
        self.frames: Iterator[Any] = iter(())

    def __enter__(self) -> _BackgroundVideo:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.close()

    def _open(self) -> None:
        from alphacut.video.opening import open_video

        if self.reader is not None:
            self.reader.close()
        self.reader = open_video(self.path, max_pixels=self.max_pixels)
        self.frames = self.reader.frames()

    def frame_like(self, rgb: Any) -> Any:
        """The next background frame, ``uint8 (h, w, 3)`` (scaled when composed)."""
        frame = next(self.frames, None)
        if frame is None:
            self._open()
            frame = next(self.frames)
        return frame.rgb
