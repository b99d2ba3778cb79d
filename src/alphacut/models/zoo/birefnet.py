"""BiRefNet (general and lite). Upstream files only: no package registry carries them.

No sha256 is pinned (none could be verified from here): fetching them needs
``ALPHACUT_ALLOW_UNPINNED=1``, and the hash seen is then recorded beside the file.

The fetch path is the same real code as for every other model; on machines that reach only
PyPI and npm, ``pull`` fails with a WeightsError naming these sources.
"""

from __future__ import annotations

from alphacut.models.spec import ModelSpec, Source

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"

SPECS = (
    ModelSpec(
        name="birefnet-general",
        family="birefnet",
        task="general",
        license="MIT",
        sha256=None,
        size_bytes=None,
        sources=(
            Source("url", url=f"{_RELEASE}/BiRefNet-general-epoch_244.onnx"),
            Source("hf_hub", "onnx-community/BiRefNet-ONNX", "main", "onnx/model.onnx"),
        ),
        input_size=(1024, 1024),
        scale="divide_255",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        activation="sigmoid",
        output_index=-1,
        description="BiRefNet general (upstream only; not on PyPI or npm).",
        available_here=False,
    ),
    ModelSpec(
        name="birefnet-lite",
        family="birefnet",
        task="general",
        license="MIT",
        sha256=None,
        size_bytes=None,
        sources=(
            Source("url", url=f"{_RELEASE}/BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx"),
            Source("hf_hub", "onnx-community/BiRefNet_lite-ONNX", "main", "onnx/model.onnx"),
        ),
        input_size=(1024, 1024),
        scale="divide_255",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        activation="sigmoid",
        output_index=-1,
        description="BiRefNet lite (upstream only; not on PyPI or npm).",
        available_here=False,
    ),
)
