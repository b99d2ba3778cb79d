"""alphacut: background removal with clean, full-resolution alpha mattes.

The public API is imported lazily so that ``import alphacut`` (and ``alphacut --help``) stays
instant: ONNX Runtime, OpenCV and friends load only when an image is processed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AlphacutError", "Config", "ImageTooLarge", "InvalidImage", "InvalidOption", "Remover",
    "Result", "UnknownModel", "UnsupportedImage", "WeightsError", "__version__", "list_models",
    "remove",
]

_LAZY = {
    "remove": "alphacut.api", "Remover": "alphacut.api", "Config": "alphacut.config",
    "Result": "alphacut.types", "list_models": "alphacut.models.registry",
    "AlphacutError": "alphacut.errors", "InvalidImage": "alphacut.errors",
    "UnsupportedImage": "alphacut.errors", "ImageTooLarge": "alphacut.errors",
    "InvalidOption": "alphacut.errors", "UnknownModel": "alphacut.errors",
    "WeightsError": "alphacut.errors",
}

if TYPE_CHECKING:
    from alphacut.api import Remover, remove
    from alphacut.config import Config
    from alphacut.errors import (
        AlphacutError,
        ImageTooLarge,
        InvalidImage,
        InvalidOption,
        UnknownModel,
        UnsupportedImage,
        WeightsError,
    )
    from alphacut.models.registry import list_models
    from alphacut.types import Result


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alphacut' has no attribute {name!r}")
