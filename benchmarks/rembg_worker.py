"""rembg side of the benchmark. Runs inside benchmarks/.venv-rembg (never imports alphacut).

Usage: ``python rembg_worker.py '<json task>'``; prints one JSON line with the measurements.
Modes: ``library`` (one image, session reused), ``batch`` (many images, session reused),
``masks`` (write rembg's masks for the IoU comparison).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from worker_main import serve


def _library(task: dict[str, Any]) -> dict[str, Any]:
    from rembg import new_session, remove

    session = new_session(task["model"])
    src, out = Path(task["image"]), Path(task["out"])

    def once() -> float:
        start = time.perf_counter()
        out.write_bytes(remove(src.read_bytes(), session=session))
        return time.perf_counter() - start

    once()  # warm-up: first-run allocations, as a long-running service would have them
    walls = [once() for _ in range(task["repeat"])]
    return {"wall": walls, "infer": _infer(session, src, task["repeat"])}


def _infer(session: Any, src: Path, repeat: int) -> list[float]:
    """rembg's own ``session.run`` on the tensor rembg builds for this image."""
    from PIL import Image

    feed = session.normalize(Image.open(src), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
                             (320, 320))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.inner_session.run(None, feed)
        times.append(time.perf_counter() - start)
    return times


def _batch(task: dict[str, Any]) -> dict[str, Any]:
    from rembg import new_session, remove

    session = new_session(task["model"])
    out_dir = Path(task["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    images = [Path(p) for p in task["images"]]
    remove(images[0].read_bytes(), session=session)  # warm-up
    walls = []
    for _ in range(task["repeat"]):
        start = time.perf_counter()
        for src in images:
            (out_dir / f"{src.stem}.png").write_bytes(remove(src.read_bytes(), session=session))
        walls.append(time.perf_counter() - start)
    return {"wall": walls}


def _masks(task: dict[str, Any]) -> dict[str, Any]:
    from rembg import new_session, remove

    session = new_session(task["model"])
    out_dir = Path(task["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    for src in task["images"]:
        mask = remove(Path(src).read_bytes(), session=session, only_mask=True)
        (out_dir / f"{Path(src).stem}.png").write_bytes(mask)
    return {"count": len(task["images"])}


def main() -> None:
    serve({"library": _library, "batch": _batch, "masks": _masks})


if __name__ == "__main__":
    main()
