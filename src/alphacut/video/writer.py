"""Write result frames: a PyAV container (WebM/VP9+alpha, MOV/ProRes 4444, MP4/H.264), a PNG
sequence, or an animated WebP/GIF (PIL).

Every writer works on a temporary name beside the target and renames it in ``finish``;
``abort`` removes it, so Ctrl-C or a crash never leaves a half file. Pixels are ``uint8``:
``(H, W, 4)`` RGBA cut-outs, ``(H, W, 3)`` RGB over a background, ``(H, W)`` grey mattes.
Timestamps are the input's own (``Frame.pts`` in ``Frame.time_base``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from alphacut.errors import InvalidOption, OutputError
from alphacut.video.formats import VideoFormat, audio_plan
from alphacut.video.reader import Frame, VideoInfo

_NO_ALPHA = {"yuva420p": "yuv420p", "yuva444p10le": "yuv444p10le"}


class FrameWriter:
    """``write`` frames in order, then ``finish`` (rename into place) or ``abort``."""

    audio_written = False

    def write(self, pixels: np.ndarray, frame: Frame) -> None:  # pragma: no cover
        raise NotImplementedError

    def finish(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover
        raise NotImplementedError


def temp_sibling(target: Path, suffix: str = "") -> Path:
    """A hidden name beside ``target`` for work in progress (``.name.part-xxxx``)."""
    return target.with_name(f".{target.stem}.part-{secrets.token_hex(4)}{suffix}")


def check_target(target: Path, *, overwrite: bool, folder: bool = False) -> None:
    """Refuse an existing output (unless ``overwrite``) and an unwritable place."""
    if target.exists() and not overwrite and not (folder and target.is_dir()
                                                   and not any(target.iterdir())):
        raise OutputError(f"{target} exists (pass --overwrite to replace it)")
    if not folder and target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {target.parent}: {exc.strerror or exc}") from exc
    if not os.access(target.parent, os.W_OK):
        raise OutputError(f"cannot write into {target.parent}: permission denied")


class ContainerWriter(FrameWriter):
    """One video stream (and the input's sound) muxed by PyAV into a temporary file."""

    def __init__(self, target: Path, fmt: VideoFormat, info: VideoInfo, *, mask: bool,
                 audio: bool, overwrite: bool) -> None:
        import av

        check_target(target, overwrite=overwrite)
        self.target, self.fmt, self.info = target, fmt, info
        self.temp = temp_sibling(target, target.suffix or f".{fmt.name}")
        try:
            self.container = av.open(str(self.temp), "w", format=fmt.muxer)
        except (OSError, av.error.FFmpegError) as exc:
            raise OutputError(f"cannot write {target}: {exc}") from exc
        self.audio: Any = None
        try:
            self.stream = self._video_stream(mask)
            plan = audio_plan(fmt, info.audio_codec) if audio and info.kind == "container" \
                else None
            if plan:
                from alphacut.video.audio import AudioTrack

                self.audio = AudioTrack(info.source, self.container, plan)
                self.audio_written = True
        except BaseException:
            self.abort()
            raise

    def _video_stream(self, mask: bool) -> Any:
        fmt, info = self.fmt, self.info
        rate = info.fps.limit_denominator(1_000_000) if info.fps else 25
        stream = self.container.add_stream(fmt.codec, rate=rate, options=dict(fmt.options))
        stream.width, stream.height = info.width, info.height
        pix_fmt = _NO_ALPHA.get(fmt.pix_fmt, fmt.pix_fmt) if mask else fmt.pix_fmt
        if fmt.codec == "libx264" and (info.width % 2 or info.height % 2):
            pix_fmt = "yuv444p"  # 4:2:0 needs even sides; keep every pixel instead of padding
        stream.pix_fmt = pix_fmt
        stream.time_base = info.time_base
        stream.codec_context.time_base = info.time_base
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            stream.codec_context.color_range = 1  # limited ("tv"), what the encoder writes
        return stream

    def write(self, pixels: np.ndarray, frame: Frame) -> None:
        import av

        layout = {2: "gray", 3: "rgb24", 4: "rgba"}[pixels.ndim if pixels.ndim == 2
                                                    else pixels.shape[2]]
        if pixels.ndim == 2 and self.stream.pix_fmt.startswith("yuv"):
            pixels, layout = np.repeat(pixels[..., None], 3, axis=2), "rgb24"
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format=layout)
        video_frame.pts = frame.pts
        video_frame.time_base = frame.time_base
        try:
            self._mux(self.stream.encode(video_frame))
            if self.audio is not None:
                self.audio.feed_until(frame.time)
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from exc

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self.container.mux(packet)

    def finish(self) -> None:
        try:
            self._mux(self.stream.encode(None))
            if self.audio is not None:
                self.audio.finish()
            self.container.close()
            os.replace(self.temp, self.target)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self.audio is not None:
            with contextlib.suppress(Exception):
                self.audio.close()
        with contextlib.suppress(Exception):
            self.container.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


class PngSequenceWriter(FrameWriter):
    """RGBA (or grey) PNG files in a temporary folder, moved into ``target`` at the end.

    Names: a folder input's own stems, else the frame index as ``00000.png``.
    """

    def __init__(self, target: Path, info: VideoInfo, *, overwrite: bool) -> None:
        check_target(target, overwrite=overwrite, folder=True)
        self.target, self.info = target, info
        self.temp = temp_sibling(target)
        try:
            self.temp.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
        width = max(5, len(str((info.frames or 1) - 1)))
        self._pattern = "{:0" + str(width) + "d}"

    def write(self, pixels: np.ndarray, frame: Frame) -> None:
        from alphacut.core.encode import encode

        name = frame.name if frame.name is not None else self._pattern.format(frame.index)
        try:
            (self.temp / f"{name}.png").write_bytes(encode(pixels, "png"))
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from exc

    def finish(self) -> None:
        try:
            if self.target.is_dir():
                for file in self.temp.iterdir():
                    os.replace(file, self.target / file.name)
                self.temp.rmdir()
            else:
                os.replace(self.temp, self.target)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from exc

    def abort(self) -> None:
        shutil.rmtree(self.temp, ignore_errors=True)


def frames_cap(fmt: VideoFormat, info: VideoInfo) -> None:
    """Refuse a long clip for a format that holds every frame in memory."""
    if fmt.max_frames and info.frames and info.frames > fmt.max_frames:
        raise InvalidOption(f"{fmt.name} is for short clips (up to {fmt.max_frames} frames; "
                            f"this one has {info.frames}): write webm or mov instead")
