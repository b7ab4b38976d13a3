"""Where the facts of albums' share links may be kept between requests (a port).

A client's gallery asks for a thumbnail per photo, and each request must check the share link
against the album. Loading the album for that costs a round trip to its event store (0.7 ms of
CPU here), so the check can read a cached copy of the link's facts instead. The cache is told
when those facts change (``forget``), by the use cases that change them, before they answer:
a revoked link is refused by the very next request, whichever API process it reaches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol
from uuid import UUID

from domains.share_link import ShareLinkFacts

LoadFacts = Callable[[], Awaitable[ShareLinkFacts]]


class ShareLinkCache(Protocol):
    async def facts(self, album_id: UUID, load: LoadFacts) -> ShareLinkFacts:
        """The album's link facts: kept ones, or ``load()``'s (then kept)."""
        ...

    async def forget(self, album_id: UUID) -> None:
        """The album's link facts changed: never answer the kept ones again."""
        ...


class NoShareLinkCache:
    """Every check loads the album (workers, tests of the use cases alone)."""

    async def facts(self, album_id: UUID, load: LoadFacts) -> ShareLinkFacts:
        return await load()

    async def forget(self, album_id: UUID) -> None:
        return None
