"""``alphacut serve``: settings from the CLI flags, then uvicorn."""

from __future__ import annotations

import argparse
import sys

from alphacut.interfaces.server.settings import MIB, ServerSettings


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """ServerSettings from ``alphacut serve`` flags; unset flags keep the defaults."""
    given: dict[str, object] = {
        "host": args.host, "port": args.port, "model": args.model,
        "concurrency": args.concurrency, "queue": args.queue, "max_pixels": args.max_pixels,
        "timeout": args.timeout, "threads": getattr(args, "threads", None),
    }
    if args.models:
        given["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.max_upload_mb is not None:
        given["max_upload_bytes"] = int(args.max_upload_mb * MIB)
    if args.cors:
        given["cors_origins"] = tuple(args.cors)
    return ServerSettings(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]


def serve(args: argparse.Namespace) -> int:
    """Build the app and serve it until interrupted; returns the exit code."""
    import uvicorn

    from alphacut.interfaces.server.app import create_app

    settings = settings_from_args(args)
    app = create_app(settings)
    resolved = app.state.alphacut.settings
    _announce(resolved)
    config = uvicorn.Config(app, host=resolved.host, port=resolved.port, log_level="info",
                            server_header=False, proxy_headers=False, access_log=False,
                            timeout_graceful_shutdown=10)
    uvicorn.Server(config).run()
    return 0


def _announce(settings: ServerSettings) -> None:
    print(f"alphacut: http://{settings.host}:{settings.port}/  model {settings.model} "
          f"(serving {', '.join(settings.models)}); {settings.concurrency} at once, "
          f"queue {settings.queue}, timeout {settings.timeout:g} s", file=sys.stderr)
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"alphacut: warning: listening on {settings.host}, reachable from other "
              "machines; put it behind TLS and authentication", file=sys.stderr)
