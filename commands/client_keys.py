"""The port to the album clients' data keys (crypto-shredding; see ``domains.personal_data``).

Each album's client has one data key, kept outside the event store (``infra.client_keys``:
table ``photoflow.client_keys``). Commands seal the client's and guests' personal data with it
before recording; readers open it with it; forgetting the client destroys it, after which every
sealed value reads as forgotten. A destroyed key stays destroyed: it is never made again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol
from uuid import UUID

from domains.personal_data import KEY_BYTES, ClientKey


def new_client_key() -> ClientKey:
    return ClientKey(os.urandom(KEY_BYTES))


class ClientKeys(Protocol):
    async def put(self, album_id: UUID, key: ClientKey) -> None:
        """Keep a new album's key (before its first sealed event is recorded)."""
        ...

    async def key_of(self, album_id: UUID) -> ClientKey | None:
        """The album's key; None once forgotten (or for an album that never had one)."""
        ...

    async def key_to_seal(self, album_id: UUID) -> ClientKey | None:
        """The key to seal new data with: made now for an album older than sealing; None once
        the client was forgotten."""
        ...

    async def keys_of(self, album_ids: Iterable[UUID]) -> dict[UUID, ClientKey]:
        """The keys that still exist among these albums'."""
        ...

    async def destroy(self, album_id: UUID) -> None:
        """Destroy the key for good (repeating it is harmless)."""
        ...


class MemoryClientKeys:
    """Keys in memory: for unit tests, and for roles that never seal (the album sync)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, ClientKey | None] = {}

    async def put(self, album_id: UUID, key: ClientKey) -> None:
        self._keys.setdefault(album_id, key)

    async def key_of(self, album_id: UUID) -> ClientKey | None:
        return self._keys.get(album_id)

    async def key_to_seal(self, album_id: UUID) -> ClientKey | None:
        if album_id not in self._keys:
            self._keys[album_id] = new_client_key()
        return self._keys[album_id]

    async def keys_of(self, album_ids: Iterable[UUID]) -> dict[UUID, ClientKey]:
        return {a: k for a in album_ids if (k := self._keys.get(a)) is not None}

    async def destroy(self, album_id: UUID) -> None:
        self._keys[album_id] = None
