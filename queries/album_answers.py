"""One way to answer an album command, and to read its If-Match, for every album route."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from broker.topics import ALBUMS
from domains.album_workflow import ShareArchived, ShareGone
from queries import consistency
from queries.conditional import expected_version, if_match_header
from queries.ports import WriteResult
from queries.problems import Problem
from queries.routing import json
from queries.text import header_line

IF_MATCH = if_match_header("album")
GUEST = {
    "description": "Which of the guests sharing the link acts (picks, ratings and comments are "
    "kept per guest); 'guest' when absent; its first 64 characters count.",
    "schema": {"type": "string"},
}
COMMAND_HEADERS = {"If-Match": IF_MATCH}
GUEST_COMMAND_HEADERS = {"If-Match": IF_MATCH, "X-Guest": GUEST}


def if_match(request: Request) -> int | None:
    """The version the caller expects the album at (``If-Match``), if it sent one."""
    return expected_version(request)


def guest_name(request: Request) -> str:
    """Several guests share one link; each browser names itself (``X-Guest``)."""
    guest = header_line(request, "x-guest", "guest").strip()[:64]
    return guest or "guest"


def written(result: WriteResult, **extra: Any) -> dict[str, Any]:
    token = consistency.Token(ALBUMS.name, result.aggregate_id, result.version)
    return {
        "album_id": result.aggregate_id,
        "version": result.version,
        "consistency_token": token.encode(),
        **extra,
    }


def answer(
    result: WriteResult, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """A command's answer: the album, its new version and a token to read it back with."""
    return json(written(result, **extra), status, headers)


def gone(error: ShareGone) -> Problem:
    """A link that worked once: 410, saying whether the album was archived or the link expired."""
    slug = "share-archived" if isinstance(error, ShareArchived) else "share-expired"
    return Problem(410, slug, "This link no longer opens the album", str(error))
