"""Bad input and bad output: each gets its typed error (and CLI exit code), and no output
file, finished or partial, is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from videoclips import av, mux_frames, pet_frames, write_clip

from alphacut.errors import (
    ImageTooLarge,
    InvalidImage,
    InvalidOption,
    OutputError,
    UnsupportedImage,
)
from alphacut.interfaces.cli import main
from alphacut.video import remove_video

FAST = {"model": "u2netp", "preset": "fast"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "pets.mp4", pet_frames(6))


def _outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _expect(error: type[Exception], src: Path, out: Path, **options: object) -> None:
    before = set(_outputs(out.parent))
    with pytest.raises(error):
        remove_video(src, out, **{**FAST, **options})
    assert set(_outputs(out.parent)) == before  # nothing new, not even a .part file


def test_truncated_file(clip: Path, tmp_path: Path) -> None:
    data = clip.read_bytes()
    (tmp_path / "out").mkdir()
    for keep in (len(data) // 2, 2000):
        src = tmp_path / f"cut{keep}.mp4"
        src.write_bytes(data[:keep])
        _expect(InvalidImage, src, tmp_path / "out" / "a.webm")


def test_truncated_file_with_index_first(tmp_path: Path) -> None:
    """moov at the front (streamable MP4): the header is whole, the frames are not."""
    src = tmp_path / "fast.mp4"
    container = av.open(str(src), "w", options={"movflags": "faststart"})
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = 192, 144, "yuv420p"
    mux_frames(container, stream, pet_frames(6) * 4)
    container.close()
    data = src.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _expect(InvalidImage, cut, out_dir / "a.mov")


def test_no_video_stream(tmp_path: Path) -> None:
    src = tmp_path / "sound.mp4"
    container = av.open(str(src), "w")
    stream = container.add_stream("aac", rate=44100)
    import numpy as np

    chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                       layout="mono")
    chunk.sample_rate = 44100
    for packet in [*stream.encode(chunk), *stream.encode()]:
        container.mux(packet)
    container.close()
    with pytest.raises(InvalidImage, match="no video stream"):
        remove_video(src, tmp_path / "x.webm", **FAST)


def test_unsupported_codec(tmp_path: Path) -> None:
    """An AVI whose codec tag no FFmpeg decoder knows."""
    src = tmp_path / "odd.avi"
    container = av.open(str(src), "w")
    stream = container.add_stream("mjpeg", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
    import numpy as np

    mux_frames(container, stream, [np.zeros((48, 64, 3), np.uint8)] * 3, flush=False)
    container.close()
    src.write_bytes(src.read_bytes().replace(b"MJPG", b"QZQZ"))
    with pytest.raises(UnsupportedImage):
        remove_video(src, tmp_path / "x.webm", **FAST)


def test_zero_frames(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _expect(InvalidImage, empty, tmp_path / "x.webm")
    src = tmp_path / "none.mkv"
    container = av.open(str(src), "w")
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.close()
    _expect(InvalidImage, src, tmp_path / "y.webm")


def test_pixel_limit(clip: Path, tmp_path: Path) -> None:
    _expect(ImageTooLarge, clip, tmp_path / "x.webm", max_pixels=100 * 100)


def test_unwritable_output(clip: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError):
        remove_video(clip, blocker / "x.webm", **FAST)
    with pytest.raises(OutputError, match="exists"):
        remove_video(clip, blocker, format="webm", **FAST)
    assert blocker.read_text() == "not a folder"


def test_bad_format_options(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidOption):
        remove_video(clip, tmp_path / "x.avi", **FAST)
    with pytest.raises(InvalidOption):
        remove_video(clip, tmp_path / "x.mp4", **FAST)  # no --bg
    assert _outputs(tmp_path) == []


def test_interrupt_mid_clip_leaves_no_file(clip: Path, tmp_path: Path) -> None:
    def stop(done: int, total: int | None, fps: float) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        remove_video(clip, tmp_path / "x.webm", progress=stop, **FAST)
    assert _outputs(tmp_path) == []


@pytest.mark.parametrize(("make", "code"), [("missing", 2), ("mp4", 2), ("blocked", 4)])
def test_cli_exit_codes(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        make: str, code: int) -> None:
    src, out = str(clip), str(tmp_path / "x.webm")
    if make == "missing":
        src = str(tmp_path / "nope.mp4")
    elif make == "mp4":
        out = str(tmp_path / "x.mp4")
    else:
        (tmp_path / "f").write_text("")
        out = str(tmp_path / "f" / "x.webm")
    assert main(["video", src, "-o", out, "-m", "u2netp", "--preset", "fast", "-q"]) == code
    assert "alphacut:" in capsys.readouterr().err
