"""``alphacut video`` on the command line: one clip, several clips into a folder, flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from videoclips import pet_frames, read_output, write_clip

from alphacut.errors import InvalidOption
from alphacut.interfaces.cli import main
from alphacut.interfaces.cli_video import plan_outputs

pytestmark = pytest.mark.model


def test_cli_writes_a_webm_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    clip = write_clip(tmp_path / "a.mp4", pet_frames(4))
    out = tmp_path / "a.webm"
    code = main(["video", str(clip), "-o", str(out), "-m", "u2netp", "--no-temporal", "-q"])
    assert code == 0
    assert len(read_output(out).frames) == 4
    assert "4 frames" in capsys.readouterr().err


def test_cli_several_clips_into_a_folder(tmp_path: Path) -> None:
    a = write_clip(tmp_path / "a.mp4", pet_frames(2), audio=False)
    b = write_clip(tmp_path / "b.mp4", pet_frames(2))
    out = tmp_path / "out"
    assert main(["video", str(a), str(b), "-o", str(out), "-f", "mov", "-m", "u2netp",
                 "--preset", "fast", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.mov", "b.mov"]


def test_plan_outputs_names() -> None:
    assert plan_outputs(["x.mp4"], "y.webm", None) == [("x.mp4", "y.webm")]
    assert plan_outputs(["d/x.mp4", "frames/"], "out", "png") == [
        ("d/x.mp4", "out/x/"), ("frames/", "out/frames/")]
    with pytest.raises(InvalidOption, match="--format"):
        plan_outputs(["a.mp4", "b.mp4"], "out", None)


def test_video_help_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys; from alphacut.interfaces.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('av', 'numpy', 'cv2', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def _video_options(argv: list[str]) -> dict[str, object]:
    import argparse

    from alphacut.interfaces import cli_video

    parser = argparse.ArgumentParser()
    cli_video.add_parser(parser.add_subparsers())
    return cli_video._options(parser.parse_args(["video", "in.mp4", "-o", "out.webm", *argv]))


def test_lookahead_and_strength_flags_pick_the_filter() -> None:
    from alphacut.video.temporal import TemporalParams

    assert _video_options([])["temporal"] is True  # the default window filter
    assert _video_options(["--lookahead", "0"])["temporal"] == TemporalParams(lookahead=0)
    assert _video_options(["--lookahead", "3"])["temporal"] == TemporalParams(lookahead=3)
    # --strength is the causal filter's knob: it implies --lookahead 0
    assert _video_options(["--strength", "0.5"])["temporal"] == TemporalParams(lookahead=0,
                                                                              strength=0.5)
    assert _video_options(["--no-temporal", "--lookahead", "0"])["temporal"] is False
    with pytest.raises(InvalidOption):
        _video_options(["--lookahead", "20"])
