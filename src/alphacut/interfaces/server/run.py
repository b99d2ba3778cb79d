"""``alphacut serve``: settings from the CLI flags, weights fetched or verified, then uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from alphacut.interfaces.server.settings import LOOPBACK_HOSTS, MIB, ServerSettings

H11_MAX_HEADER_BYTES = 16 * 1024


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """ServerSettings from ``alphacut serve`` flags; unset flags keep the defaults."""
    given: dict[str, object] = {
        "host": args.host, "port": args.port, "model": args.model,
        "concurrency": args.concurrency, "queue": args.queue, "max_pixels": args.max_pixels,
        "timeout": args.timeout, "threads": getattr(args, "threads", None),
        "header_timeout": getattr(args, "header_timeout", None),
        "body_timeout": getattr(args, "body_timeout", None),
        "keepalive_timeout": getattr(args, "keepalive_timeout", None),
        "max_connections": getattr(args, "max_connections", None),
    }
    if args.models:
        given["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.max_upload_mb is not None:
        given["max_upload_bytes"] = int(args.max_upload_mb * MIB)
    if getattr(args, "upload_budget_mb", None) is not None:
        given["upload_budget_bytes"] = int(args.upload_budget_mb * MIB)
    if args.cors:
        given["cors_origins"] = tuple(args.cors)
    if getattr(args, "allow_host", None):
        given["allowed_hosts"] = tuple(args.allow_host)
    keys = api_keys(getattr(args, "api_key", None), os.environ.get("ALPHACUT_API_KEYS", ""))
    if keys:
        given["api_keys"] = keys
    if getattr(args, "no_access_log", False):
        given["access_log"] = False
    if getattr(args, "allow_url_fetch", False):
        given["allow_url_fetch"] = True
    return ServerSettings(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]


def api_keys(flags: list[str] | None, env: str) -> tuple[str, ...]:
    """Keys from repeated ``--api-key`` flags and ``ALPHACUT_API_KEYS`` (comma-separated)."""
    keys = [*(flags or []), *env.split(",")]
    return tuple(dict.fromkeys(k.strip() for k in keys if k.strip()))


def uvicorn_config(app: Any, settings: ServerSettings, **overrides: Any) -> Any:
    """The uvicorn Config every alphacut server runs with: the guarded h11 protocol (header,
    body and send deadlines, connection cap), keep-alive timeout, bounded headers."""
    import uvicorn

    from alphacut.interfaces.server.access import install_log_limits
    from alphacut.interfaces.server.protocol import guarded_protocol

    install_log_limits()
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": "info",
        "server_header": False, "proxy_headers": False, "access_log": False,
        "timeout_graceful_shutdown": 10, "http": guarded_protocol(settings),
        "timeout_keep_alive": settings.keepalive_timeout, "ws": "none", "lifespan": "on",
        "h11_max_incomplete_event_size": H11_MAX_HEADER_BYTES,
    }
    return uvicorn.Config(app, **{**options, **overrides})


def serve(args: argparse.Namespace) -> int:
    """Fetch or verify the weights, build the app and serve it until interrupted."""
    import uvicorn

    from alphacut.interfaces.server.app import create_app

    settings = settings_from_args(args).resolved()
    if not _prepare(settings):
        return 3
    os.environ["ALPHACUT_OFFLINE"] = "1"  # from here on nothing in this process downloads
    app = create_app(settings)
    _announce(settings)
    _setup_access_log(settings)
    uvicorn.Server(uvicorn_config(app, settings)).run()
    return 0


def _prepare(settings: ServerSettings) -> bool:
    """Fetch (with progress) or verify every served model's weights; False if the default
    model is not ready. Other models that are not ready answer 503 ``weights_missing``."""
    from alphacut.interfaces.progress import DownloadBar
    from alphacut.interfaces.server.weights import prepare_weights

    problems = prepare_weights(settings.models, progress=DownloadBar())
    for name, problem in problems.items():
        what = "cannot serve" if name == settings.model else "warning: requests for"
        tail = "" if name == settings.model else " will answer 503 weights_missing"
        print(f"alphacut: {what} model {name}{tail}: {problem}", file=sys.stderr)
    from alphacut.web.serving import prepare_runtime

    prepare_runtime(progress=DownloadBar())
    return settings.model not in problems


def _setup_access_log(settings: ServerSettings) -> None:
    from alphacut.interfaces.server.access import log_to_stderr

    logger = logging.getLogger("alphacut.access")
    if settings.access_log and not logger.handlers:
        log_to_stderr(logger)


def _announce(settings: ServerSettings) -> None:
    print(f"alphacut: http://{settings.host}:{settings.port}/  model {settings.model} "
          f"(serving {', '.join(settings.models)}); {settings.concurrency} at once, "
          f"queue {settings.queue}, timeout {settings.timeout:g} s", file=sys.stderr)
    if settings.api_keys:
        print(f"alphacut: {len(settings.api_keys)} API key(s) required; open the page once "
              "as /?key=KEY", file=sys.stderr)
    if settings.host not in LOOPBACK_HOSTS:
        print(f"alphacut: warning: listening on {settings.host}, reachable from other "
              "machines; put it behind TLS" + ("" if settings.api_keys else
                                               " and set --api-key"), file=sys.stderr)
        print("alphacut: requests must name an allowed Host: "
              f"{', '.join(sorted(settings.host_names()))} (add names with --allow-host)",
              file=sys.stderr)
