"""Open the reader and the writer a path asks for: container, animation, folder of frames."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from alphacut.errors import InvalidImage
from alphacut.formats import DEFAULT_MAX_PIXELS
from alphacut.video.animation import AnimationWriter
from alphacut.video.formats import ANIMATION_SUFFIXES, VideoFormat
from alphacut.video.reader import FOLDER_FPS, ContainerReader, VideoInfo, VideoReader
from alphacut.video.sequence import AnimationReader, FolderReader
from alphacut.video.writer import ContainerWriter, FrameWriter, PngSequenceWriter


def open_video(source: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               fps: Fraction | None = None) -> VideoReader:
    """Open a clip, an animated GIF/WebP or a folder of frames (``fps`` for folders)."""
    path = Path(source)
    if path.is_dir():
        return FolderReader(path, max_pixels=max_pixels, fps=fps or FOLDER_FPS)
    if not path.is_file():
        raise InvalidImage(f"{path}: no such file or folder")
    if path.stat().st_size == 0:
        raise InvalidImage(f"{path}: empty file")
    if path.suffix.lower() in ANIMATION_SUFFIXES:
        return AnimationReader(path, max_pixels=max_pixels)
    return ContainerReader(path, max_pixels=max_pixels)


def open_writer(target: Path, fmt: VideoFormat, info: VideoInfo, *, mask: bool,
                audio: bool = True, overwrite: bool = False) -> FrameWriter:
    """The writer for ``fmt``; ``mask``: grey mattes instead of colour pixels."""
    if fmt.name == "png":
        return PngSequenceWriter(target, info, overwrite=overwrite)
    if fmt.muxer is None:
        return AnimationWriter(target, fmt, info, overwrite=overwrite)
    return ContainerWriter(target, fmt, info, mask=mask, audio=audio, overwrite=overwrite)
