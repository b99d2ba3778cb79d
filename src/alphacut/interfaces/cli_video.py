"""``alphacut video``: remove the background of clips (argv -> ``alphacut.video.remove_video``).

Light at import (argparse only); PyAV, numpy and the model load when a clip is processed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphacut.errors import AlphacutError, InvalidOption
from alphacut.interfaces.cli_options import add_config_flags, config_options

EPILOG = """examples:
  alphacut video clip.mp4 -o cutout.webm                 # VP9 with alpha, plays in browsers
  alphacut video clip.mov -o cutout.mov                  # ProRes 4444 with alpha, for editors
  alphacut video clip.mp4 -o frames/                     # PNG sequence (RGBA)
  alphacut video clip.mp4 -o green.mp4 --bg '#00ff00'    # H.264 over a colour, image or video
  alphacut video clip.mp4 -o matte.mp4 --mask            # grey matte video
  alphacut video clip.mp4 -o loop.webp                   # animated WebP (short clips)
  alphacut video a.mp4 b.mkv -o out/ --format webm       # several clips into a folder
"""
CONFIG_GROUPS = ("model", "refine", "limits")  # the output group is video's own, below
FORMATS = ("webm", "mov", "mp4", "mkv", "png", "webp", "gif")  # = alphacut.video.formats.NAMES


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "video", help="remove the background of video clips (needs alphacut[video])",
        description="Remove the background of every frame of a clip, a GIF/WebP animation or "
        "a folder of frames. The matte is stabilised between frames (optical flow); the sound "
        "is kept; the output appears only when complete. Video's default preset is fast (the "
        "model's mask, smoothed between frames); balanced adds band matting.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="IN", help="clip(s) or folder(s) of frames")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file (one input) or folder; a folder or a name without an "
                   "extension with one input means a PNG sequence")
    p.add_argument("-f", "--format", choices=FORMATS,
                   help="output kind (default: from OUT's extension)")
    p.add_argument("--mask", action="store_true", help="write a grey matte video")
    p.add_argument("--bg", metavar="COLOR|IMAGE|VIDEO",
                   help="put the subject over a colour, a picture or another clip (looped); "
                   "needed for mp4/mkv")
    p.add_argument("--temporal", action=argparse.BooleanOptionalAction, default=True,
                   help="stabilise the matte between frames (default: on)")
    p.add_argument("--lookahead", type=int, default=None, metavar="FRAMES",
                   help="frames looked at on each side when stabilising (default 2: a "
                   "symmetric window, output lags 2 frames); 0: causal, the previous frames only")
    p.add_argument("--strength", type=float, default=None, metavar="0..0.95",
                   help="the causal filter (implies --lookahead 0): how much of the previous "
                   "frame's matte to keep (default 0.85)")
    p.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                   help="keep the sound (default: on)")
    p.add_argument("--fps", type=float, help="frame rate of a folder of frames (default 25)")
    add_config_flags(p, groups=CONFIG_GROUPS)  # model, preset, refinement, limits
    p.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from alphacut.video import api
    except ImportError as exc:
        raise InvalidOption(f"alphacut video needs: pip install 'alphacut[video]' ({exc})") from exc
    jobs = plan_outputs(args.inputs, args.output, args.format)
    options = _options(args)
    failed = 0
    for source, target in jobs:
        try:
            with progress_bar(Path(source).name, enabled=not args.quiet) as progress:
                report = api.remove_video(source, target, progress=progress, **options)
            sound = "with sound" if report.audio else "no sound"
            print(f"{source} -> {report.output} ({report.frames} frames, {report.fps:.1f} fps, "
                  f"{sound})", file=sys.stderr)
        except AlphacutError as exc:
            print(f"alphacut: {source}: {exc}", file=sys.stderr)
            failed = max(failed, exc.exit_code)
            if len(jobs) == 1:
                return exc.exit_code
    return failed


def _options(args: argparse.Namespace) -> dict[str, Any]:
    temporal: Any = args.temporal
    tuned = {k: v for k, v in (("strength", args.strength), ("lookahead", args.lookahead))
             if v is not None}
    if args.strength is not None:
        tuned.setdefault("lookahead", 0)  # the strength is the causal filter's
    if args.temporal and tuned:
        from alphacut.video.temporal import TemporalParams

        if not 0.0 <= tuned.get("strength", 0.0) <= 0.95:
            raise InvalidOption("--strength must be within 0..0.95")
        temporal = TemporalParams(**tuned)
    return {"format": args.format, "mask": args.mask, "bg": args.bg, "temporal": temporal,
            "audio": args.audio, "overwrite": args.overwrite, "fps": args.fps,
            **config_options(args, groups=CONFIG_GROUPS)}


def plan_outputs(inputs: list[str], output: str, fmt: str | None) -> list[tuple[str, str]]:
    """(input, output) pairs: one input -> OUT itself; several -> OUT/<stem>.<ext>."""
    if len(inputs) == 1:
        return [(inputs[0], output)]
    if fmt is None:
        raise InvalidOption("several inputs go into the folder OUT: say which --format")
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise InvalidOption(f"several inputs need a folder for -o, and {output} is a file")
    pairs = []
    for source in inputs:
        stem = Path(source.rstrip("/\\")).stem or "clip"
        pairs.append((source, str(folder / stem) + ("/" if fmt == "png" else f".{fmt}")))
    return pairs


@contextmanager
def progress_bar(label: str, *, enabled: bool = True
                 ) -> Iterator[Callable[[int, int | None, float], None] | None]:
    """A ``(done, total, fps)`` callback drawing frames, fps and ETA on stderr."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from alphacut.interfaces.progress import rich_progress

    with rich_progress(fps=True) as progress:
        task = progress.add_task(label[-40:], total=None, fps=0.0)

        def update(done: int, total: int | None, fps: float) -> None:
            progress.update(task, completed=done, total=total, fps=fps)

        yield update
