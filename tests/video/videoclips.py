"""Build real test clips with PyAV (H.264 MP4 + a generated AAC tone) and read outputs back."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from helpers import FIXTURES

av = pytest.importorskip("av")

PETS = sorted((FIXTURES / "pets").glob("*.jpg"))


def evaldata_root() -> Path | None:
    from helpers import evaldata

    return evaldata()


def davis_sequence(name: str, count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The first ``count`` frames ``uint8 (480, 854, 3)`` and masks ``uint8 (480, 854)`` of one
    DAVIS 2016 sequence; skips the test when the shared data is absent."""
    root = evaldata_root()
    folder = root / "davis2016" / name if root else None
    if folder is None or not (folder / "frames").is_dir():
        pytest.skip("../shared/evaldata/davis2016 not found (set ALPHACUT_EVALDATA)")
    frames = sorted((folder / "frames").glob("*.jpg"))[:count]
    masks = [folder / "masks" / (f.stem + ".png") for f in frames]
    return ([np.asarray(Image.open(f).convert("RGB")) for f in frames],
            [np.asarray(Image.open(m).convert("L")) for m in masks])


def pet_frames(count: int = 6, size: tuple[int, int] = (192, 144)) -> list[np.ndarray]:
    """``count`` frames ``uint8 (h, w, 3)`` made from the bundled pet photos: each photo held
    for two frames, slightly shifted, so the clip has motion and a cut."""
    frames = []
    for i in range(count):
        photo = Image.open(PETS[(i // 2) % len(PETS)]).convert("RGB").resize(size)
        frames.append(np.roll(np.asarray(photo), shift=2 * (i % 2), axis=1))
    return frames


def write_clip(path: Path, frames: list[np.ndarray], *, fps: int = 24, audio: bool = True,
               pts: list[int] | None = None, rotation: int = 0, codec: str = "libx264",
               time_base: Fraction | None = None) -> Path:
    """Encode ``frames`` as H.264 (yuv420p) into ``path`` with a 440 Hz AAC tone as long as
    the video; ``pts`` (in ``time_base``, default 1/fps) makes it variable-frame-rate."""
    height, width = frames[0].shape[:2]
    time_base = time_base or Fraction(1, fps)
    pts = pts if pts is not None else [round(i / fps / time_base) for i in range(len(frames))]
    container = av.open(str(path), "w")
    video = container.add_stream(codec, rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.time_base = time_base
    video.codec_context.time_base = time_base
    if rotation:
        video.set_display_rotation(rotation)
    sound = container.add_stream("aac", rate=44100) if audio else None
    if sound is not None:
        sound.layout = "mono"
    for rgb, stamp in zip(frames, pts, strict=True):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts, frame.time_base = stamp, time_base
        for packet in video.encode(frame):
            container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    if sound is not None:
        seconds = float(pts[-1] * time_base) + 1.0 / fps
        total = round(44100 * seconds)
        for start in range(0, total, 1024):
            n = min(1024, total - start)
            t = np.arange(start, start + n) / 44100
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, start
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    container.close()
    return path


def mux_frames(container: Any, stream: Any, frames: list[Any], *, flush: bool = True) -> None:
    """Encode ``frames`` (``av.VideoFrame`` or RGB ``uint8 (H, W, 3)``) with pts 0, 1, 2...
    into ``stream`` and mux them; ``flush`` drains the encoder at the end."""
    for i, item in enumerate(frames):
        frame = item if isinstance(item, av.VideoFrame) else av.VideoFrame.from_ndarray(
            np.ascontiguousarray(item), format="rgb24")
        frame.pts = i
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in (stream.encode() if flush else []):
        container.mux(packet)


@dataclass
class Decoded:
    """What an output file holds: RGBA frames, their times (s), audio seconds (or None)."""

    frames: list[np.ndarray]
    times: list[float]
    audio_seconds: float | None
    codec: str
    pix_fmt: str


def read_output(path: Path) -> Decoded:
    """Decode every frame of ``path`` as RGBA ``uint8 (H, W, 4)`` (libvpx for VP9 alpha)."""
    container = av.open(str(path))
    stream = container.streams.video[0]
    decoder = None
    if stream.codec_context.name == "vp9":
        decoder = av.CodecContext.create("libvpx-vp9", "r")
    frames, times, fmt = [], [], ""
    if decoder is None:
        decoded = container.decode(stream)
    else:
        decoded = (f for pkt in container.demux(stream) if pkt.size for f in decoder.decode(pkt))
    for frame in decoded:
        fmt = frame.format.name
        frames.append(frame.to_ndarray(format="rgba"))
        times.append(float(frame.pts * frame.time_base))
    container.close()
    return Decoded(frames, times, audio_seconds(path), stream.codec_context.name, fmt)


def audio_seconds(path: Path) -> float | None:
    """The audio stream's length in seconds, from its packets; None without audio."""
    container = av.open(str(path))
    try:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        end = 0.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.duration:
                end = max(end, float((packet.pts + packet.duration) * packet.time_base))
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        return end - max(0.0, start)
    finally:
        container.close()


def input_times(path: Path) -> list[float]:
    """Presentation times (s) of every frame of ``path``."""
    container = av.open(str(path))
    try:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]
    finally:
        container.close()


def leftovers(folder: Path) -> list[str]:
    """Names of partial outputs (hidden ``.part-`` files or folders) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".part-" in p.name)
