"""A small web app that dockyard builds and deploys: a greeting, a health check, its version.

A plain WSGI application (served by gunicorn in the image), configured only through the
environment, so the same image runs in every stage:

    GREETING      the text on the front page         default "Hello from dockyard"
    APP_VERSION   shown on the front page and /version default "dev"
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _respond(start: StartResponse, status: str, body: str,
             content_type: str = "text/plain; charset=utf-8") -> Iterable[bytes]:
    data = body.encode()
    start(status, [("Content-Type", content_type), ("Content-Length", str(len(data))),
                   ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return [data]


def application(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
    """The WSGI entry point."""
    path = environ.get("PATH_INFO", "/")
    method = environ.get("REQUEST_METHOD", "GET")
    version = os.environ.get("APP_VERSION", "dev")
    if method not in ("GET", "HEAD"):
        return _respond(start, "405 Method Not Allowed", "only GET\n")
    if path == "/healthz":
        return _respond(start, "200 OK", "ok\n")
    if path == "/version":
        return _respond(start, "200 OK", json.dumps({"version": version}) + "\n",
                        "application/json")
    if path == "/":
        greeting = html.escape(os.environ.get("GREETING", "Hello from dockyard"))
        page = (f"<!doctype html><title>web</title><h1>{greeting}</h1>"
                f"<p>version {html.escape(version)}</p>\n")
        return _respond(start, "200 OK", page, "text/html; charset=utf-8")
    return _respond(start, "404 Not Found", "not found\n")


if __name__ == "__main__":  # local runs without gunicorn: python app.py
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("PORT", "5001"))
    print(f"serving on http://127.0.0.1:{port}/")
    make_server("127.0.0.1", port, application).serve_forever()
