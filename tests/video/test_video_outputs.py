"""End to end: a clip in, every output kind out, checked by decoding the output again.

The pet clip is built from the bundled fixtures, so this always runs (CI included).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from videoclips import (
    audio_seconds,
    input_times,
    leftovers,
    mux_frames,
    pet_frames,
    read_output,
    write_clip,
)

from alphacut.video import remove_video

pytestmark = pytest.mark.model
FAST = {"model": "u2netp", "preset": "fast"}


@pytest.fixture(scope="module")
def pet_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "pets.mp4", pet_frames(6))


def _check_times(out_times: list[float], in_times: list[float], tolerance: float) -> None:
    assert len(out_times) == len(in_times)
    assert np.allclose(np.array(out_times) - out_times[0], np.array(in_times) - in_times[0],
                       atol=tolerance)


def test_webm_keeps_alpha_frames_times_and_sound(pet_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.webm"
    report = remove_video(pet_clip, out, model="u2netp")  # balanced refinement, temporal on
    decoded = read_output(out)
    assert decoded.pix_fmt == "yuva420p"
    _check_times(decoded.times, input_times(pet_clip), tolerance=0.0011)  # WebM counts in ms
    alpha = decoded.frames[0][..., 3]
    assert alpha.min() < 10 and alpha.max() > 245  # a real cut-out: clear and solid pixels
    assert report.audio and decoded.audio_seconds is not None
    video_seconds = len(decoded.times) / 24
    assert abs(decoded.audio_seconds - video_seconds) < 0.1  # Opus re-encode of the AAC tone
    assert leftovers(tmp_path) == []


def test_mov_prores_4444_is_exact_in_time_and_copies_audio(pet_clip: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "cut.mov"
    remove_video(pet_clip, out, **FAST)
    decoded = read_output(out)
    assert decoded.codec == "prores" and decoded.pix_fmt.startswith("yuva444p")
    _check_times(decoded.times, input_times(pet_clip), tolerance=1e-9)
    assert decoded.frames[0][..., 3].min() < 10
    assert audio_seconds(out) == pytest.approx(audio_seconds(pet_clip), abs=1e-3)  # remuxed


def test_mp4_needs_a_background_and_composes_over_it(pet_clip: Path, tmp_path: Path) -> None:
    from alphacut.errors import InvalidOption

    with pytest.raises(InvalidOption, match="--bg"):
        remove_video(pet_clip, tmp_path / "bad.mp4", **FAST)
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "green.mp4"
    remove_video(pet_clip, out, bg="#00ff00", **FAST)
    decoded = read_output(out)
    _check_times(decoded.times, input_times(pet_clip), tolerance=1e-9)
    corner = decoded.frames[0][:4, :4, :3].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 200 and corner[0] < 60 and corner[2] < 60  # green where bg was
    assert audio_seconds(out) == pytest.approx(audio_seconds(pet_clip), abs=1e-3)


def test_background_video_is_looped_under_the_subject(pet_clip: Path, tmp_path: Path) -> None:
    red = [np.full((60, 80, 3), (255, 0, 0), np.uint8)] * 2
    bg = write_clip(tmp_path / "red.mp4", red, audio=False)
    out = tmp_path / "over.mkv"
    remove_video(pet_clip, out, bg=str(bg), **FAST)
    decoded = read_output(out)
    assert len(decoded.frames) == 6
    assert decoded.frames[-1][:4, :4, 0].mean() > 200  # still red after the bg clip looped


def test_png_sequence_is_rgba_and_numbered(pet_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "frames"
    remove_video(pet_clip, str(out) + "/", **FAST)
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:05d}.png" for i in range(6)]
    image = Image.open(out / names[0])
    assert image.mode == "RGBA" and image.size == (192, 144)
    assert leftovers(tmp_path) == []


def test_folder_of_frames_keeps_its_names(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i, rgb in enumerate(pet_frames(3)):
        Image.fromarray(rgb).save(src / f"shot_{i + 8}.png")
    out = tmp_path / "out"
    report = remove_video(src, out, format="png", **FAST)
    assert report.frames == 3
    assert sorted(p.name for p in out.iterdir()) == ["shot_10.png", "shot_8.png", "shot_9.png"]


def test_mask_video_is_grey_and_matches_the_cutout(pet_clip: Path, tmp_path: Path) -> None:
    remove_video(pet_clip, tmp_path / "cut.mov", **FAST)
    remove_video(pet_clip, tmp_path / "matte.mp4", mask=True, **FAST)
    matte = read_output(tmp_path / "matte.mp4").frames[0].astype(np.int16)
    alpha = read_output(tmp_path / "cut.mov").frames[0][..., 3].astype(np.int16)
    assert np.abs(matte[..., 0] - matte[..., 1]).max() <= 3  # grey
    assert np.mean(np.abs(matte[..., 0] - alpha)) < 4  # the same matte, lossy-coded


@pytest.mark.parametrize("kind", ["webp", "gif"])
def test_short_animation_outputs(pet_clip: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"loop.{kind}"
    remove_video(pet_clip, out, **FAST)
    image = Image.open(out)
    assert image.n_frames == 6
    image.seek(0)
    rgba = np.asarray(image.convert("RGBA"))
    assert rgba[..., 3].min() == 0 and rgba[..., 3].max() == 255


def test_animated_gif_input_keeps_frame_durations(tmp_path: Path) -> None:
    frames = [Image.fromarray(f) for f in pet_frames(4)]
    src = tmp_path / "in.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=[50, 100, 150, 200],
                   loop=0)
    out = tmp_path / "out.mov"
    remove_video(src, out, **FAST)
    times = read_output(out).times
    assert np.allclose(times, [0.0, 0.05, 0.15, 0.30], atol=1e-6)


def test_variable_frame_rate_is_kept(tmp_path: Path) -> None:
    from fractions import Fraction

    stamps = [0, 40, 80, 200, 240, 400]  # ms: gaps of 40, 120 and 160
    src = write_clip(tmp_path / "vfr.mp4", pet_frames(6), pts=stamps,
                     time_base=Fraction(1, 1000))
    out = tmp_path / "vfr.mov"
    remove_video(src, out, **FAST)
    _check_times(read_output(out).times, input_times(src), tolerance=1e-9)
    assert np.allclose(read_output(out).times, np.array(stamps) / 1000, atol=1e-6)


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "rot.mp4", pet_frames(2), rotation=90, audio=False)
    out = tmp_path / "rot.mov"
    remove_video(src, out, **FAST)
    frame = read_output(out).frames[0]
    assert frame.shape[:2] == (192, 144)  # portrait: sides swapped
    upright = np.rot90(pet_frames(1)[0], k=1)
    visible = frame[..., 3] > 250
    assert np.abs(frame[..., :3][visible].astype(int) - upright[visible]).mean() < 12


def test_iter_video_yields_every_frame_in_order(pet_clip: Path) -> None:
    from alphacut.video import iter_video

    items = list(iter_video(pet_clip, **FAST))
    assert [i.frame.index for i in items] == list(range(6))
    assert items[0].result.alpha.shape == (144, 192)
    assert items[0].result.alpha.dtype == np.float32


@pytest.mark.parametrize(("codec", "pix_fmt", "name"), [("libx264", "yuvj420p", "full.mp4"),
                                                        ("libvpx-vp9", "yuv420p", "full.webm")])
def test_full_range_input_is_read_in_its_own_range(tmp_path: Path, codec: str, pix_fmt: str,
                                                   name: str) -> None:
    """Full-range ("pc"/JPEG) clips, as a yuvj format or a tagged yuv420p: colours come back
    as encoded, not stretched as if they were limited range."""
    from videoclips import av

    from alphacut.video.opening import open_video

    colour = np.array([30, 128, 220], np.uint8)
    src = tmp_path / name
    container = av.open(str(src), "w")
    stream = container.add_stream(codec, rate=10, options={"crf": "0"} if codec == "libx264"
                                  else {"lossless": "1"})
    stream.width, stream.height, stream.pix_fmt = 64, 48, pix_fmt
    stream.codec_context.color_range = 2  # JPEG / full
    frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), colour, np.uint8), format="rgb24")
    mux_frames(container, stream, [frame.reformat(format=pix_fmt, dst_color_range=2)
                                   for _ in range(2)])
    container.close()
    with open_video(src) as reader:
        rgb = next(iter(reader.frames())).rgb
    assert np.abs(rgb[24, 32].astype(int) - colour).max() <= 3
