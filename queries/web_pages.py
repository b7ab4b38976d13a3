"""The web app's pages, served from the built app in ``web/dist`` (``make web`` builds it).

- ``/`` is the landing page (``index.html``: almost no script);
- ``/app``, ``/app/...``, ``/g/{share_token}`` and ``/invite/{token}`` answer the single-page
  app (``app.html``), which routes in the browser;
- ``/assets/...`` are Vite's hashed files: cached for a year, immutable;
- anything else goes on to the API, so ``/api/*`` keeps its own routes and answers.

This sits in front of the API's gate, not behind it: the gate's Content-Security-Policy
(``default-src 'none'``) suits JSON and would stop a page's own scripts and styles, so pages
carry their own security headers, with a policy that allows this origin and nothing else.

Without ``web/dist`` the pages answer 503 saying how to build them, never a 500.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
"""Where the built app is; ``PHOTOFLOW_WEB_DIST`` overrides it."""

GSI = "https://accounts.google.com/gsi/"
"""Google Identity Services, the sign-in button's script, styles and frame (Google's own list)."""
CSP = (
    f"default-src 'self'; script-src 'self' {GSI}client; "
    # Radix's scroll lock injects a <style> element while a dialog is open
    f"style-src 'self' 'unsafe-inline' {GSI}style; img-src 'self' data: blob:; "
    f"connect-src 'self' {GSI}; frame-src {GSI}; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]
HTML_CACHE = b"no-cache"
ASSET_CACHE = b"public, max-age=31536000, immutable"
APP_PREFIXES = ("/app/", "/g/", "/invite/")
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>PhotoFlow: web app not built</title>"
    "<h1>The web app is not built</h1><p>The web app is not built: run <code>make web</code> "
    "(or <code>make run</code>, which builds it), then reload this page.</p>\n"
)


def web_dist() -> Path:
    return Path(os.environ.get("PHOTOFLOW_WEB_DIST") or WEB_DIST)


def page_for(path: str) -> str | None:
    """The HTML file that answers ``path``, or None when it is not a page."""
    if path in ("/", "/index.html"):
        return "index.html"
    if path == "/app" or path.startswith(APP_PREFIXES):
        return "app.html"
    return None


class WebPages:
    """ASGI middleware: the app's pages and assets; everything else goes to ``api``."""

    def __init__(self, api: ASGIApp, dist: Path | None = None) -> None:
        self._api = api
        self._dist = dist or web_dist()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        page = page_for(path)
        asset = _asset(self._dist, path) if page is None and path else None
        if scope["type"] != "http" or (page is None and asset is None):
            await self._api(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(
                send,
                scope,
                405,
                b"text/plain; charset=utf-8",
                b"GET or HEAD only\n",
                [(b"allow", b"GET, HEAD"), (b"cache-control", b"no-store")],
            )
            return
        if page is not None:
            file = self._dist / page
            if not file.is_file():
                await _answer(
                    send,
                    scope,
                    503,
                    b"text/html; charset=utf-8",
                    NOT_BUILT.encode(),
                    [(b"cache-control", b"no-store"), (b"retry-after", b"30")],
                )
                return
            await _answer(
                send,
                scope,
                200,
                b"text/html; charset=utf-8",
                file.read_bytes(),
                [(b"cache-control", HTML_CACHE)],
            )
            return
        assert asset is not None
        if not asset.is_file():
            await _answer(
                send,
                scope,
                404,
                b"text/plain; charset=utf-8",
                b"not found\n",
                [(b"cache-control", b"no-store")],
            )
            return
        kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
            kind += "; charset=utf-8"
        immutable = path.startswith("/assets/")
        await _answer(
            send,
            scope,
            200,
            kind.encode(),
            asset.read_bytes(),
            [(b"cache-control", ASSET_CACHE if immutable else HTML_CACHE)],
        )


def _asset(dist: Path, path: str) -> Path | None:
    """The built file under ``/assets/`` or a top-level file of the build (``/favicon.svg``);
    None for any other path (those belong to the API)."""
    name = path.lstrip("/")
    top_level = "/" not in name and "." in name and not name.endswith(".html")
    if not path.startswith("/assets/") and not (top_level and (dist / name).is_file()):
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p for p in parts):
        return dist / "assets" / "missing"  # answered 404 as any unknown asset
    return dist.joinpath(*parts)


async def _answer(
    send: Send,
    scope: Scope,
    status: int,
    content_type: bytes,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
                *PAGE_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
