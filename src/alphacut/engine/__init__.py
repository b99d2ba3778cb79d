"""The engine: the one ordered list of stages and the split points every runner uses.

``stages`` holds the order (prepare -> infer -> finish -> render), ``passes`` the model passes
and their sessions, ``batching`` the infer stage, ``image.Engine`` the object front doors use.
"""

from __future__ import annotations

from alphacut.engine.image import Engine
from alphacut.engine.stages import STAGES, Inferred, Prepared

__all__ = ["STAGES", "Engine", "Inferred", "Prepared"]
