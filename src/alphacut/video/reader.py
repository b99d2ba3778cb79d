"""Read a clip frame by frame: containers through PyAV, animated GIF/WebP through PIL, and
folders of numbered frames.

Each frame comes out as RGB ``uint8 (H, W, 3)`` with its presentation time, already turned
upright by the stream's rotation metadata and converted with the stream's own colour range
and matrix. Frames are decoded lazily, one at a time (constant memory).

Every failure is a typed error: ``InvalidImage`` (truncated, corrupt, no video stream, zero
frames), ``UnsupportedImage`` (no decoder for the codec), ``ImageTooLarge`` (pixel limit,
checked from the header before any frame is decoded).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from alphacut.errors import ImageTooLarge, InvalidImage, UnsupportedImage

FOLDER_FPS = Fraction(25)  # a folder of frames carries no timing: 25 fps unless told


@dataclass(frozen=True)
class VideoInfo:
    """What the input says about itself (sizes are after rotation).

    ``time_base``: seconds per pts tick; ``frames``: the declared count (None: unknown);
    ``audio_codec``: the first audio stream's codec name, or None; ``names``: frame stems of a
    folder input (to number a PNG sequence like the input).
    """

    source: str
    kind: str  # "container" | "animation" | "folder"
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frames: int | None
    duration: float | None
    rotation: int = 0
    codec: str | None = None
    audio_codec: str | None = None
    color_range: str | None = None
    names: tuple[str, ...] = ()


@dataclass
class Frame:
    """One decoded frame: ``rgb`` ``uint8 (H, W, 3)``, ``pts`` in ``time_base`` ticks,
    ``duration`` in ticks (None: unknown), ``index`` from 0, ``name`` for folder frames."""

    index: int
    rgb: np.ndarray
    pts: int
    time_base: Fraction
    duration: int | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def time(self) -> float:
        return float(self.pts * self.time_base)


class VideoReader:
    """``with open_video(path) as reader: reader.info; for frame in reader.frames(): ...``"""

    info: VideoInfo

    def frames(self) -> Iterator[Frame]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_pixels(label: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(f"{label}: {width}x{height} = {width * height:,} pixels per frame, "
                            f"over the limit of {max_pixels:,}")
    if width < 1 or height < 1:
        raise InvalidImage(f"{label}: frame size {width}x{height}")


class ContainerReader(VideoReader):
    """A file PyAV (FFmpeg) demuxes: MP4, MOV, MKV, WebM, AVI, ..."""

    def __init__(self, path: Path, *, max_pixels: int) -> None:
        import av

        self.path = path
        try:
            self.container = av.open(str(path), metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            raise InvalidImage(f"{path.name}: not a readable video (truncated or corrupt?): "
                               f"{exc}") from exc
        try:
            self.stream, self._decoder = self._video_stream()
            self.info = self._probe(max_pixels)
        except BaseException:
            self.container.close()
            raise

    def _video_stream(self) -> tuple[Any, Any]:
        import av

        if not self.container.streams.video:
            raise InvalidImage(f"{self.path.name}: no video stream")
        stream = self.container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None or not getattr(ctx, "name", None) or ctx.name == "none":
            raise UnsupportedImage(f"{self.path.name}: no decoder for this video codec")
        decoder = None
        if ctx.name in ("vp8", "vp9") and stream.metadata.get("alpha_mode") == "1":
            # FFmpeg's own VP8/VP9 decoders drop the alpha plane; libvpx keeps it
            decoder = av.CodecContext.create(f"libvpx-{ctx.name}", "r")
        stream.thread_type = "AUTO"
        return stream, decoder

    def _probe(self, max_pixels: int) -> VideoInfo:
        stream = self.stream
        width, height = stream.codec_context.width, stream.codec_context.height
        check_pixels(self.path.name, width, height, max_pixels)  # before any frame decodes
        self._iter = self._decode()
        self._first = self._next_frame(0)
        if self._first is None:
            raise InvalidImage(f"{self.path.name}: the video stream has no frames")
        rotation = round((getattr(self._first, "rotation", 0) or 0) / 90.0) % 4 * 90
        if rotation % 180:
            width, height = height, width
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        time_base = stream.time_base or Fraction(1, 1000)
        duration = float(stream.duration * time_base) if stream.duration else (
            self.container.duration / 1e6 if self.container.duration else None)
        audio = self.container.streams.audio
        return VideoInfo(
            source=str(self.path), kind="container", width=width, height=height,
            fps=Fraction(rate), time_base=Fraction(time_base), frames=stream.frames or None,
            duration=duration, rotation=rotation, codec=stream.codec_context.name,
            audio_codec=audio[0].codec_context.name if audio else None,
            color_range=str(self._first.color_range))

    def _next_frame(self, index: int) -> Any:
        import av

        try:
            return next(self._iter, None)
        except av.error.FFmpegError as exc:
            raise InvalidImage(f"{self.path.name}: decoding failed at frame {index} (truncated "
                               f"or corrupt): {exc}") from exc

    def frames(self) -> Iterator[Frame]:
        index = 0
        last_pts: int | None = None
        av_frame = self._first
        while av_frame is not None:
            pts = av_frame.pts if av_frame.pts is not None else (
                round(index / self.info.fps / self.info.time_base))
            if last_pts is None or pts > last_pts:  # a repeated timestamp cannot be muxed
                last_pts = pts
                yield Frame(index=index, rgb=to_rgb(av_frame, self.info.rotation), pts=pts,
                            time_base=self.info.time_base, duration=av_frame.duration or None)
                index += 1
            av_frame = self._next_frame(index)
        declared = self.info.frames
        if declared and index + 1 < declared:
            raise InvalidImage(f"{self.path.name}: truncated: {index} of {declared} frames "
                               "decoded")

    def _decode(self) -> Iterator[Any]:
        if self._decoder is None:
            yield from self.container.decode(self.stream)
            return
        for packet in self.container.demux(self.stream):
            if packet.size:
                yield from self._decoder.decode(packet)
        yield from self._decoder.decode(None)

    def close(self) -> None:
        self.container.close()


def to_rgb(frame: Any, rotation: int = 0) -> np.ndarray:
    """A PyAV ``VideoFrame`` -> RGB ``uint8 (H, W, 3)``, upright, in the frame's own colour
    range (full or limited) and matrix."""
    rgb = frame.to_ndarray(format="rgb24", src_color_range=frame.color_range or None) if (
        frame.format.name.startswith("yuv")) else frame.to_ndarray(format="rgb24")
    quarter = rotation // 90 % 4
    if quarter:
        rgb = np.rot90(rgb, k=quarter)
    return np.ascontiguousarray(rgb)
