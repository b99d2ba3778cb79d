"""A YUV4MPEG2 clip builder for Chromium's fake camera (``--use-file-for-fake-video-capture``).

Y4M is a text header, then per frame ``FRAME\\n`` and the raw planes: for ``C420jpeg`` the full
Y plane and the U and V planes at half width and height (full-range BT.601, as JPEG uses).
Also usable as a script: ``python tests/web/y4m.py SEQ_DIR OUT.y4m [--still N]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = (640, 360)  # width, height: the camera mode's target


def rgb_to_yuv420(rgb: np.ndarray) -> bytes:
    """``uint8 (H, W, 3)`` RGB, even H and W → Y, U, V planes (full-range BT.601), as bytes."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    v = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    h, w = y.shape

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = [y, half(u), half(v)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def load_frame(path: Path, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A DAVIS JPEG resized to ``size`` (w, h): ``uint8 (h, w, 3)`` RGB."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(size, Image.Resampling.BILINEAR))


def load_mask(path: Path, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A DAVIS mask resized to ``size`` (w, h): ``bool (h, w)``, True on the object."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L").resize(size, Image.Resampling.BILINEAR)) > 127


def write_y4m(frames: Iterable[np.ndarray], out: Path, fps: int = 30) -> int:
    """Write RGB frames (``uint8 (H, W, 3)``, all one size) to ``out`` atomically; → count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".part")
    count = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for frame in frames:
                if count == 0:
                    h, w = frame.shape[:2]
                    fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
                fh.write(b"FRAME\n" + rgb_to_yuv420(frame))
                count += 1
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def sequence_clip(seq: Path, out: Path, fps: int = 30, size: tuple[int, int] = SIZE) -> int:
    """All frames of a DAVIS sequence folder (``frames/*.jpg``) as a y4m clip; → frame count."""
    paths = sorted((seq / "frames").glob("*.jpg"))
    return write_y4m((load_frame(p, size) for p in paths), out, fps)


def still_clip(frame: Path, out: Path, count: int = 30, fps: int = 30,
               size: tuple[int, int] = SIZE) -> int:
    """One frame repeated ``count`` times: whatever the camera shows, it is this frame."""
    rgb = load_frame(frame, size)
    return write_y4m((rgb for _ in range(count)), out, fps)


def read_y4m_frame(path: Path, index: int = 0) -> np.ndarray:
    """Frame ``index`` of a C420 clip back as ``uint8 (H, W, 3)`` RGB (for checking the writer)."""
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    fields = {t[:1]: t[1:] for t in header.split()[1:]}
    w, h = int(fields[b"W"]), int(fields[b"H"])
    frame_len = len(b"FRAME\n") + w * h * 3 // 2
    raw = body[index * frame_len + 6:(index + 1) * frame_len]
    y = np.frombuffer(raw[:w * h], np.uint8).reshape(h, w).astype(np.float32)
    chroma = np.frombuffer(raw[w * h:], np.uint8).astype(np.float32) - 128.0
    u = chroma[:w * h // 4].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1)
    v = chroma[w * h // 4:].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1)
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seq", type=Path, help="a DAVIS sequence folder (frames/, masks/)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--still", type=int, default=None, help="repeat this one frame")
    parser.add_argument("--fps", type=int, default=30)
    args = parser.parse_args()
    if args.still is None:
        n = sequence_clip(args.seq, args.out, args.fps)
    else:
        n = still_clip(args.seq / "frames" / f"{args.still:05d}.jpg", args.out, fps=args.fps)
    print(f"{args.out}: {n} frames at {SIZE[0]}x{SIZE[1]}")


if __name__ == "__main__":
    main()
