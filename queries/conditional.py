"""``If-Match`` on every command: the version the caller last saw, or 409 when it moved on.

One reading of the header and one description of it, for every route that runs a command.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from queries.problems import Problem


def if_match_header(what: str) -> dict[str, Any]:
    """The OpenAPI description of ``If-Match`` on a command over ``what``."""
    return {
        "description": f"The {what}'s version last seen (its ETag, or a command's version): the "
        f"command fails with 409 concurrency-conflict if the {what} has moved on.",
        "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]+"?$'},
    }


def expected_version(request: Request) -> int | None:
    """``If-Match: <version>`` makes a write conditional on the version the client last saw."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to str.isdigit, not int
        raise Problem(400, "bad-if-match", "Bad If-Match", "If-Match must be a version number")
    return int(value)
