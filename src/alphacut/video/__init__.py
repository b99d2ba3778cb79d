"""Background removal for video: ``remove_video(src, dst)`` and ``iter_video(src)``.

Needs the ``video`` extra (PyAV). Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VideoReport", "iter_video", "remove_video"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        try:
            from alphacut.video import api
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from alphacut.errors import InvalidOption

            raise InvalidOption(f"video needs: pip install 'alphacut[video]' ({exc})") from exc
        return getattr(api, name)
    raise AttributeError(name)
