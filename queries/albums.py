"""The album wing's routes, gathered: each module holds one concept.

- ``album_routes``: the photographer's commands (signed in; the role is checked on the write
  side), ``share_routes``: the client's routes under a share link,
- ``album_reads``: the studio's reads, ``album_export``: the selection export.
"""

from __future__ import annotations

import asyncpg

from queries.album_export import album_export_endpoints
from queries.album_reads import album_read_endpoints
from queries.album_routes import album_command_endpoints
from queries.auth import Callers
from queries.ports import AlbumCommandsPort, EventHistoryPort
from queries.routing import Endpoint
from queries.share_routes import share_endpoints


def album_endpoints(
    albums: AlbumCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)
    return [
        *album_command_endpoints(albums, callers, max_body),
        *album_read_endpoints(
            callers, pool, lambda album, nonce: albums.share_token_of(album, nonce)
        ),
        *album_export_endpoints(callers, pool),
        *share_endpoints(albums, pool, max_body),
    ]
