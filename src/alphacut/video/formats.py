"""The one table of video outputs: container, codec, pixel format, alpha, audio it can carry.

Light on purpose (no numpy, no PyAV): the CLI reads it for ``--help`` and choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alphacut.errors import InvalidOption

# input suffixes read by PyAV (containers) or PIL (animations); a folder is a frame sequence
CONTAINER_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg",
                                ".mpeg", ".ts", ".mts", ".m2ts", ".flv", ".wmv", ".3gp",
                                ".ogv", ".mxf", ".y4m"})
ANIMATION_SUFFIXES = frozenset({".gif", ".webp"})
FRAME_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True)
class VideoFormat:
    """One output kind.

    - ``muxer``/``codec``/``pix_fmt``: what PyAV writes (``muxer`` None: written by PIL or as
      PNG files). ``alpha``: the pixels keep transparency.
    - ``audio_copy``: audio codecs the container takes as they are (remux); ``audio_codec``:
      what other audio is re-encoded to; None when the format carries no sound.
    - ``max_frames``: a cap for formats that hold every frame in memory while writing.
    """

    name: str
    extensions: tuple[str, ...]
    muxer: str | None
    codec: str | None
    pix_fmt: str | None
    alpha: bool
    audio_copy: frozenset[str] = frozenset()
    audio_codec: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    max_frames: int | None = None
    description: str = ""


_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac"})
_MOV_AUDIO = _MP4_AUDIO | frozenset({"pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_f32le"})

TABLE: tuple[VideoFormat, ...] = (
    VideoFormat("webm", (".webm",), "webm", "libvpx-vp9", "yuva420p", alpha=True,
                audio_copy=frozenset({"opus", "vorbis"}), audio_codec="libopus",
                options=(("crf", "30"), ("b", "0"), ("deadline", "realtime"),
                         ("cpu-used", "8"), ("row-mt", "1"), ("auto-alt-ref", "0")),
                description="VP9 with alpha (yuva420p), plays in browsers"),
    VideoFormat("mov", (".mov",), "mov", "prores_ks", "yuva444p10le", alpha=True,
                audio_copy=_MOV_AUDIO, audio_codec="aac",
                options=(("profile", "4"), ("vendor", "apl0")),
                description="ProRes 4444 with alpha, for editors"),
    VideoFormat("mp4", (".mp4", ".m4v"), "mp4", "libx264", "yuv420p", alpha=False,
                audio_copy=_MP4_AUDIO, audio_codec="aac",
                options=(("crf", "18"), ("preset", "veryfast")),
                description="H.264 over a background (--bg); no alpha"),
    VideoFormat("mkv", (".mkv",), "matroska", "libx264", "yuv420p", alpha=False,
                audio_copy=frozenset({"*"}), audio_codec="aac",
                options=(("crf", "18"), ("preset", "veryfast")),
                description="H.264 in Matroska over a background (--bg); no alpha"),
    VideoFormat("png", (), None, None, None, alpha=True,
                description="PNG sequence (RGBA), one file per frame, named like the input"),
    VideoFormat("webp", (".webp",), None, None, None, alpha=True, max_frames=1500,
                description="animated WebP with alpha, for short clips"),
    VideoFormat("gif", (".gif",), None, None, None, alpha=True, max_frames=1500,
                description="animated GIF (1-bit transparency), for short clips"),
)

BY_NAME: dict[str, VideoFormat] = {f.name: f for f in TABLE}
NAMES: tuple[str, ...] = tuple(BY_NAME)
_BY_SUFFIX: dict[str, str] = {e: f.name for f in TABLE for e in f.extensions}


def format_for_output(path: str | Path, fmt: str | None = None) -> VideoFormat:
    """The output kind from ``fmt`` or else ``path``'s extension (no extension, a trailing
    slash or an existing folder: a PNG sequence). Raises ``InvalidOption``."""
    if fmt:
        if fmt not in BY_NAME:
            raise InvalidOption(f"unknown video format {fmt!r}; choose one of: {', '.join(NAMES)}")
        return BY_NAME[fmt]
    text = str(path)
    p = Path(text)
    if text.endswith(("/", "\\")) or p.is_dir() or not p.suffix:
        return BY_NAME["png"]
    name = _BY_SUFFIX.get(p.suffix.lower())
    if name is None:
        raise InvalidOption(f"cannot tell the video format from {p.name!r}; use --format "
                            f"({', '.join(NAMES)})")
    return BY_NAME[name]


def check_request(fmt: VideoFormat, *, mask: bool, background: bool) -> None:
    """Refuse what a format cannot hold: alpha into MP4/MKV without ``--bg``."""
    if not fmt.alpha and not mask and not background:
        raise InvalidOption(f"{fmt.name} cannot carry alpha: add --bg COLOR|IMAGE|VIDEO to put "
                            "the subject over a background, use --mask for a matte video, or "
                            "write webm/mov/png for transparency")


def audio_plan(fmt: VideoFormat, codec: str | None) -> str | None:
    """``copy`` (remux), an encoder name (re-encode) or None (the format has no sound)."""
    if codec is None or fmt.muxer is None:
        return None
    if codec in fmt.audio_copy or "*" in fmt.audio_copy:
        return "copy"
    return fmt.audio_codec
