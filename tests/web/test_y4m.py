"""The y4m clip builder the fake-camera tests use: header, frame layout, colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from y4m import read_y4m_frame, write_y4m


def test_frames_round_trip_through_yuv420(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    smooth = np.kron(rng.integers(0, 256, (18, 32, 3)), np.ones((20, 20, 1))).astype(np.uint8)
    frames = [smooth, 255 - smooth]
    clip = tmp_path / "clip.y4m"
    assert write_y4m(frames, clip, fps=24) == 2
    data = clip.read_bytes()
    assert data.startswith(b"YUV4MPEG2 W640 H360 F24:1 Ip A1:1 C420jpeg\nFRAME\n")
    assert len(data) == data.index(b"\n") + 1 + 2 * (6 + 640 * 360 * 3 // 2)
    for k, frame in enumerate(frames):
        back = read_y4m_frame(clip, k).astype(np.int16)
        assert np.abs(back - frame).mean() < 3  # chroma at half size: blocks of 20 survive


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    def frames():  # type: ignore[no-untyped-def]
        yield np.zeros((360, 640, 3), np.uint8)
        raise RuntimeError("decoder died")

    clip = tmp_path / "clip.y4m"
    with pytest.raises(RuntimeError):
        write_y4m(frames(), clip)
    assert not clip.exists() and not list(tmp_path.iterdir())
