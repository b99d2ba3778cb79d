"""``GET /camera``: the live camera page (static/camera.html).

The page runs a people model in a worker on the camera's frames and composites them itself;
it only GETs its scripts, the runtime (``/web/ort/``) and the weights (``/web/models/``). The
models it offers must be in the server's allowlist (``--models rvm,modnet``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from alphacut.interfaces.server.state import STATIC_DIR

router = APIRouter(include_in_schema=False)


@router.get("/camera")
async def camera_page() -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / "camera.html").read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-cache"})
