"""WHAT to run: model specs and the registry."""

from alphacut.models.registry import DEFAULT_MODEL, get_spec, list_models, load_spec_file
from alphacut.models.spec import ModelSpec, Source

__all__ = ["DEFAULT_MODEL", "ModelSpec", "Source", "get_spec", "list_models", "load_spec_file"]
