"""Animated WebP (full alpha) and GIF (1-bit transparency) for short clips, written by PIL.

PIL needs every frame at once, so frames are kept, each as a PIL image, until ``finish``;
``VideoFormat.max_frames`` and ``MAX_BUFFER_PIXELS`` bound that memory. Each frame keeps its
own display time (milliseconds; GIF stores hundredths).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from alphacut.errors import InvalidOption, OutputError
from alphacut.video.formats import VideoFormat
from alphacut.video.reader import Frame, VideoInfo
from alphacut.video.writer import FrameWriter, check_target, temp_sibling

MAX_BUFFER_PIXELS = 400_000_000  # frames x pixels kept for one animation (~1.6 GB RGBA)


class AnimationWriter(FrameWriter):
    """Collects frames as PIL images and writes the animation atomically at the end."""

    def __init__(self, target: Path, fmt: VideoFormat, info: VideoInfo, *,
                 overwrite: bool) -> None:
        check_target(target, overwrite=overwrite)
        self.target, self.fmt, self.info = target, fmt, info
        self.images: list[Any] = []
        self.times: list[float] = []
        self.last_duration: float | None = None

    def write(self, pixels: np.ndarray, frame: Frame) -> None:
        from PIL import Image

        if (self.fmt.max_frames and len(self.images) >= self.fmt.max_frames) or (
                (len(self.images) + 1) * pixels.shape[0] * pixels.shape[1] > MAX_BUFFER_PIXELS):
            raise InvalidOption(f"{self.fmt.name} is for short clips: this one is too long; "
                                "write webm or mov instead")
        mode = {2: "L", 3: "RGB", 4: "RGBA"}[pixels.ndim if pixels.ndim == 2 else pixels.shape[2]]
        self.images.append(Image.fromarray(np.ascontiguousarray(pixels), mode))
        self.times.append(frame.time)
        if frame.duration:
            self.last_duration = float(frame.duration * frame.time_base)

    def _durations(self) -> list[int]:
        """Milliseconds each frame is shown: the gap to the next frame's time."""
        fallback = self.last_duration or 1.0 / float(self.info.fps or 25)
        ends = [*self.times[1:], self.times[-1] + fallback]
        return [max(10, round((b - a) * 1000)) for a, b in zip(self.times, ends, strict=True)]

    def finish(self) -> None:
        if not self.images:
            return
        temp = temp_sibling(self.target, f".{self.fmt.name}")
        first, rest = self.images[0], self.images[1:]
        options: dict[str, Any] = {"save_all": True, "append_images": rest, "loop": 0,
                                   "duration": self._durations()}
        if self.fmt.name == "webp":
            options.update(quality=85, method=4, lossless=False, alpha_quality=100)
        else:
            options.update(disposal=2, optimize=False)
        try:
            first.save(temp, format=self.fmt.name.upper(), **options)
            os.replace(temp, self.target)
        except OSError as exc:
            with _quiet():
                temp.unlink()
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
        except BaseException:
            with _quiet():
                temp.unlink()
            raise
        finally:
            self.images.clear()

    def abort(self) -> None:
        self.images.clear()


def _quiet() -> Any:
    import contextlib

    return contextlib.suppress(OSError)
