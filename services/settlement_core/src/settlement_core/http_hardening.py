"""HTTP hardening shared by the API and ingest: security headers and self-served API docs.

`SecurityHeadersMiddleware` (pure ASGI) adds to every response `X-Content-Type-Options:
nosniff` and `Referrer-Policy: no-referrer`, and a Content-Security-Policy:

- HTML: scripts and styles from this origin only, `frame-ancestors 'none'` (no framing, so
  no clickjacking of the operator page), no plugins, no <base> rewriting. An inline
  <script> runs only when its SHA-256 is listed: the middleware reads the HTML it sends and
  lists the hash of each inline script, so the one FastAPI's Swagger UI page carries runs
  while anything injected into a page would not (a data block, type="application/json",
  never runs and needs no hash).
- everything else (JSON, CSV, xlsx, metrics): `default-src 'none'; frame-ancestors 'none'`,
  so a response opened as a document can load and run nothing.

`install_http_hardening` adds the middleware and replaces FastAPI's /docs and /redoc, which
load Swagger UI and ReDoc from a CDN, with pages that load the same assets from this
service (the files ship in the `fastapi-offline` wheel). The docs pages alone may use
inline styles ('unsafe-inline' in style-src; ReDoc injects <style> elements) and blob:
workers (ReDoc's search); never inline script. `docs=False` removes the docs pages.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_ASSETS_PREFIX = "/docs-assets"
_ASSETS = files("fastapi_offline") / "static"
_ASSET_MEDIA = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_INLINE_SCRIPT = re.compile(rb"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
_NOT_RUN = re.compile(rb"""\btype\s*=\s*["']?application/(ld\+)?json""", re.IGNORECASE)
_HAS_SRC = re.compile(rb"\bsrc\s*=", re.IGNORECASE)

NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'"


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP source expressions ('sha256-...') of the inline scripts a browser would run."""
    hashes: list[str] = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if _HAS_SRC.search(attrs) or _NOT_RUN.search(attrs):
            continue
        digest = base64.b64encode(hashlib.sha256(match.group("body")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(hashes))


def html_csp(script_hashes: Iterable[str], *, docs: bool) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    styles = "'self' 'unsafe-inline'" if docs else "'self'"
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        f"style-src {styles}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if docs:
        directives.append("worker-src 'self' blob:")
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response; buffers HTML bodies (pages are small)
    to hash their inline scripts. Headers a route set itself are kept."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in self.docs_paths
        start: Message | None = None
        chunks: list[bytes] = []

        async def guarded(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if _is_html(headers):
                    start = {**message, "headers": headers}
                    return
                await send({**message, "headers": _with_defaults(headers, NON_HTML_CSP)})
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                csp = html_csp(inline_script_hashes(body), docs=docs)
                await send({**start, "headers": _with_defaults(start["headers"], csp)})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, guarded)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers)


def _with_defaults(headers: list[tuple[bytes, bytes]], csp: str) -> list[tuple[bytes, bytes]]:
    present = {k.lower() for k, _ in headers}
    defaults = {
        b"content-security-policy": csp.encode(),
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"no-referrer",
    }
    return headers + [(k, v) for k, v in defaults.items() if k not in present]


def _docs_routes(app: FastAPI) -> list[BaseRoute]:
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title
    favicon = f"{DOCS_ASSETS_PREFIX}/favicon.png"
    redirect = app.swagger_ui_oauth2_redirect_url

    async def swagger(request: Any) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=favicon,
            oauth2_redirect_url=redirect,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def redoc(request: Any) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )

    async def oauth2_redirect(request: Any) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(request: Any) -> Response:
        name = request.path_params["name"]
        if name not in _ASSET_MEDIA:  # a fixed list: no path traversal possible
            return Response(status_code=404)
        # Versioned with the installed wheel: a day of browser caching is safe.
        return Response(
            (_ASSETS / name).read_bytes(), media_type=_ASSET_MEDIA[name], headers={"Cache-Control": "max-age=86400"}
        )

    routes: list[BaseRoute] = [
        Route(app.docs_url or "/docs", swagger, include_in_schema=False),
        Route(app.redoc_url or "/redoc", redoc, include_in_schema=False),
        Route(DOCS_ASSETS_PREFIX + "/{name}", asset, include_in_schema=False),
    ]
    if redirect:
        routes.append(Route(redirect, oauth2_redirect, include_in_schema=False))
    return routes


def install_http_hardening(app: FastAPI, *, docs: bool = True) -> None:
    """Security headers on every response; /docs and /redoc served from this service, or
    removed when `docs` is False (the OpenAPI document itself stays)."""
    builtin = {p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p}
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in builtin]
    docs_paths: tuple[str, ...] = ()
    if docs:
        app.router.routes.extend(_docs_routes(app))
        docs_paths = (app.docs_url or "/docs", app.redoc_url or "/redoc")
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs_paths)
