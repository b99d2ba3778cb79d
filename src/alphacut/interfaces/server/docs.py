"""API docs at ``/docs`` without a CDN: a plain HTML page rendered from ``/openapi.json``.

FastAPI's default docs page loads Swagger UI from a CDN, which this server never does; the
machine-readable schema stays at ``/openapi.json`` for any OpenAPI tool.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("/docs", include_in_schema=False)
async def api_docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render(request.app.openapi()))


def render(schema: dict[str, Any]) -> str:
    """The whole docs page for an OpenAPI ``schema``."""
    info = schema.get("info", {})
    sections = [_operation(path, method, op) for path, ops in schema.get("paths", {}).items()
                for method, op in ops.items()]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(info.get('title', 'API'))} API</title>"
        "<link rel='stylesheet' href='/static/style.css'></head><body class='docs'><main>"
        f"<h1>{escape(info.get('title', ''))} API <small>{escape(info.get('version', ''))}"
        "</small></h1>"
        f"<p>{escape(info.get('description', ''))} Machine-readable schema: "
        "<a href='/openapi.json'>/openapi.json</a>. Web page: <a href='/'>/</a>.</p>"
        f"{''.join(sections)}</main></body></html>"
    )


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    body = op.get("requestBody", {}).get("content", {})
    where = "query or form" if "multipart/form-data" in body else None
    params = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(where or p.get('in', ''))}</td>"
        f"<td>{escape(str(p.get('schema', {}).get('type', '')))}</td></tr>"
        for p in op.get("parameters", []))
    table = (f"<table><tr><th>option</th><th>in</th><th>type</th></tr>{params}</table>"
             if params else "")
    bodies = (f"<p>Body: {', '.join(f'<code>{escape(k)}</code>' for k in body)}</p>"
              if body else "")
    responses = ", ".join(
        f"<code>{escape(str(code))}</code> {escape(r.get('description', ''))}"
        for code, r in op.get("responses", {}).items())
    return (
        f"<section class='op'><h2><span class='verb {method}'>{method.upper()}</span> "
        f"<code>{escape(path)}</code> {escape(op.get('summary', ''))}</h2>"
        f"<p>{escape(op.get('description', ''))}</p>{bodies}{table}"
        f"<p class='responses'>Responses: {responses}</p></section>"
    )
