"""Frame sources without a demuxer: a folder of numbered frames, an animated GIF/WebP (PIL).

Both yield ``Frame`` objects like ``ContainerReader``: RGB ``uint8 (H, W, 3)``, one at a
time. Times: a folder plays at ``fps``; an animation keeps each frame's own duration
(milliseconds, so ``time_base`` is 1/1000).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from alphacut.errors import AlphacutError, InvalidImage
from alphacut.video.formats import FRAME_SUFFIXES
from alphacut.video.reader import Frame, VideoInfo, VideoReader, check_pixels

_DIGITS = re.compile(r"(\d+)")
DEFAULT_GIF_MS = 100  # browsers show a 0 ms GIF frame for about 100 ms


def natural_key(path: Path) -> tuple[object, ...]:
    """Sort ``frame2.png`` before ``frame10.png``."""
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(path.name))


class FolderReader(VideoReader):
    """A folder of still frames (PNG, JPEG, ...), in natural name order."""

    def __init__(self, path: Path, *, max_pixels: int, fps: Fraction) -> None:
        from alphacut.core.decode import decode

        self.path = path
        self.max_pixels = max_pixels
        self.files = sorted((p for p in path.iterdir()
                             if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES),
                            key=natural_key)
        if not self.files:
            raise InvalidImage(f"{path}: no frames (no image files in the folder)")
        first = decode(self.files[0], max_pixels=max_pixels).rgb
        height, width = first.shape[:2]
        time_base = Fraction(1) / Fraction(fps)
        self.info = VideoInfo(
            source=str(path), kind="folder", width=width, height=height, fps=Fraction(fps),
            time_base=time_base, frames=len(self.files), duration=len(self.files) / float(fps),
            names=tuple(p.stem for p in self.files))

    def frames(self) -> Iterator[Frame]:
        from alphacut.core.decode import decode

        size = (self.info.height, self.info.width)
        for index, file in enumerate(self.files):
            rgb = decode(file, max_pixels=self.max_pixels).rgb
            if rgb.shape[:2] != size:
                raise InvalidImage(f"{file.name}: {rgb.shape[1]}x{rgb.shape[0]}, but the first "
                                   f"frame is {size[1]}x{size[0]}")
            yield Frame(index=index, rgb=rgb, pts=index, time_base=self.info.time_base,
                        duration=1, name=file.stem)


class AnimationReader(VideoReader):
    """An animated GIF or WebP, read by PIL one frame at a time."""

    def __init__(self, path: Path, *, max_pixels: int) -> None:
        from PIL import Image

        self.path = path
        try:
            self.image = Image.open(path)
        except Exception as exc:  # PIL raises many types for broken files
            raise InvalidImage(f"{path.name}: not a readable animation: {exc}") from exc
        width, height = self.image.size
        try:
            check_pixels(path.name, width, height, max_pixels)
        except AlphacutError:
            self.image.close()
            raise
        count = int(getattr(self.image, "n_frames", 1))
        self.info = VideoInfo(
            source=str(path), kind="animation", width=width, height=height,
            fps=Fraction(1000, self._duration_ms()), time_base=Fraction(1, 1000),
            frames=count, duration=None, codec=(self.image.format or "").lower())

    def _duration_ms(self) -> int:
        ms = int(self.image.info.get("duration") or 0)
        return ms if ms > 0 else DEFAULT_GIF_MS

    def frames(self) -> Iterator[Frame]:
        pts = 0
        for index in range(self.info.frames or 1):
            try:
                self.image.seek(index)
                rgb = np.asarray(self.image.convert("RGB"))
            except EOFError:
                break
            except Exception as exc:
                raise InvalidImage(f"{self.path.name}: frame {index} is broken "
                                   f"(truncated?): {exc}") from exc
            ms = self._duration_ms()
            yield Frame(index=index, rgb=np.ascontiguousarray(rgb), pts=pts,
                        time_base=Fraction(1, 1000), duration=ms)
            pts += ms

    def close(self) -> None:
        self.image.close()
