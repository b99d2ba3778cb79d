"""The model passes of one configuration, and the pool of sessions that runs them.

A pass is one forward run per image: the main model, its mirrored twin (``tta_flip``) and each
ensemble partner. Every pass runs in the infer stage, inside this pool, with the Remover's
threads and download progress; nothing after ``infer`` needs a session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alphacut.config import RefineOptions
from alphacut.core.fusion import FUSION_WEIGHT, partners
from alphacut.models.registry import get_spec
from alphacut.models.spec import ModelSpec

if TYPE_CHECKING:
    from alphacut.runtime.session import ModelSession

ProgressFn = Callable[[str, int, int | None], None]
SessionWrapper = Callable[["ModelSession"], Any]
"""Takes a loaded session, returns an object with the same ``spec`` and ``run`` (a memo, a
timer); the quality benchmark replays model outputs through one."""


@dataclass(frozen=True)
class ModelPass:
    """One forward run per image: ``spec`` on the photo (mirrored if ``flip``), its mask
    fused with the others' at logit weight ``weight``."""

    spec: ModelSpec
    flip: bool = False
    weight: float = 1.0


def plan_passes(main: ModelSpec, refine: RefineOptions) -> tuple[ModelPass, ...]:
    """The passes ``refine`` asks for, main model first (weights as measured in fusion.py)."""
    weight = FUSION_WEIGHT.get(main.name, 1.0)
    if refine.tta_flip:  # the model keeps its weight, split between the two views
        passes = [ModelPass(main, False, weight / 2.0), ModelPass(main, True, weight / 2.0)]
    else:
        passes = [ModelPass(main, False, weight)]
    for name in partners(main.name, refine.ensemble):
        passes.append(ModelPass(get_spec(name), False, FUSION_WEIGHT.get(name, 1.0)))
    return tuple(passes)


class SessionPool:
    """Sessions by spec, loaded (and fetched) on first use with one thread count, shared."""

    def __init__(self, *, threads: int | None = None, progress: ProgressFn | None = None,
                 wrap: SessionWrapper | None = None) -> None:
        self.threads = threads
        self._progress = progress
        self._wrap = wrap
        self._sessions: dict[ModelSpec, Any] = {}
        self._lock = threading.Lock()

    def get(self, spec: ModelSpec) -> Any:
        """The session for ``spec`` (a wrapped one if the pool has a wrapper)."""
        session = self._sessions.get(spec)
        if session is None:
            from alphacut.runtime.session import load_session

            with self._lock:
                session = self._sessions.get(spec)
                if session is None:
                    session = load_session(spec, threads=self.threads, progress=self._progress)
                    session = self._wrap(session) if self._wrap else session
                    self._sessions[spec] = session
        return session

    def load(self, passes: tuple[ModelPass, ...]) -> None:
        """Load every pass's session now (before a batch's threads start)."""
        for model_pass in passes:
            self.get(model_pass.spec)
