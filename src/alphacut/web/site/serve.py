"""Serve this folder with the headers that let the page use threads (standard library only).

    python serve.py [PORT] [--bind ADDRESS]      (default: 8000 on 127.0.0.1)

Cross-Origin-Opener-Policy + Cross-Origin-Embedder-Policy make the page cross-origin
isolated, so ONNX Runtime Web may run the model on several threads. Plain
``python -m http.server`` works too, with one thread.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import mimetypes
from pathlib import Path

HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=8000)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("application/wasm", ".wasm")
    handler = functools.partial(Handler, directory=str(Path(__file__).resolve().parent))
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        print(f"serving on http://{args.bind}:{args.port}/ (Ctrl-C to stop)")
        server.serve_forever()


if __name__ == "__main__":
    main()
