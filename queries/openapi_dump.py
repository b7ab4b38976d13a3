"""Write the platform's OpenAPI document to a file, without any server running.

``python -m queries.openapi_dump OUT`` (``-`` for stdout). The web app generates its API types
from this file (``web/package.json``, script ``api``), so a contract change that breaks the app
fails its build.

The document comes from the real application: ``build_app`` with parts that are never called
(route modules only declare endpoints when built), asked for ``/api/openapi.json`` in-process.
That path has no id in it and is not a sign-in, so no middleware touches PostgreSQL or Redis,
and the document is the one a running platform serves, not a copy of its route list.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from queries.app import ApiParts, build_app
from queries.images import ImageParts
from queries.metrics import Metrics
from queries.streams import LiveParts

Unused: Any = None


class _Stub:
    """Stands for an optional part (``images``, ``live``...): present, so its routes are
    declared, and never called. Any attribute of it is another stub."""

    def __getattr__(self, name: str) -> _Stub:
        return _Stub()


def _parts() -> ApiParts:
    given: dict[str, Any] = dict(
        pool=Unused,
        redis=Unused,
        kafka_admin=Unused,
        authenticator=Unused,
        auth_rate_limit=Unused,
        cors_origins=[],
        identity=Unused,
        tokens=Unused,
        orgs=Unused,
        providers=Unused,
        storage=Unused,
        albums=Unused,
        check_location=Unused,
        history=Unused,
        asyncapi=dict,
        required_workers=[],
        namespace="openapi-dump",
        metrics=Metrics(),
        max_body_bytes=1024,
        consistency_wait_seconds=1.0,
        images=ImageParts(Unused, Unused, Unused),
        live=LiveParts(Unused, Unused, Unused),
    )
    # every other optional part (a route group added later) is present too, so the document
    # has all the routes a running platform serves
    for field in fields(ApiParts):
        if field.name not in given and field.default is None:
            given[field.name] = _Stub()
    return ApiParts(**given)


async def document_bytes() -> bytes:
    """The bytes ``GET /api/openapi.json`` answers."""
    app = build_app(_parts())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/openapi.json",
        "raw_path": b"/api/openapi.json",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
    }
    status: list[int] = []
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != [200]:
        raise RuntimeError(f"/api/openapi.json answered {status}: {b''.join(body)[:500]!r}")
    return b"".join(body)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m queries.openapi_dump OUT  (OUT may be - for stdout)", file=sys.stderr
        )
        return 2
    document = asyncio.run(document_bytes())
    if argv[0] == "-":
        sys.stdout.buffer.write(document + b"\n")
    else:
        out = Path(argv[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(document + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
