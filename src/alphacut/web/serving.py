"""Start-up step of ``alphacut serve``: fetch or verify the web runtime (a warning, not a
failure, when it cannot be had: the page then offers its other modes)."""

from __future__ import annotations

import sys

from alphacut.errors import WeightsError
from alphacut.web.runtime import Progress


def prepare_runtime(*, progress: Progress | None = None, offline: bool | None = None) -> bool:
    """True if every runtime file is cached and verified (fetching it when allowed)."""
    from alphacut.web.runtime import ORT_PACKAGE, ORT_VERSION, ensure_runtime

    try:
        ensure_runtime(progress=progress, offline=offline)
    except WeightsError as exc:
        print(f"alphacut: warning: the page's on-device mode is off ({ORT_PACKAGE} "
              f"{ORT_VERSION} is not available: {exc})", file=sys.stderr)
        return False
    return True
