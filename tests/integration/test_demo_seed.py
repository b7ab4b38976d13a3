"""The demo studio ``make run`` seeds: its album's client reads as the client, not as forgotten.

The album's personal data is sealed with its client's key; a demo seeded with a key nobody kept
showed "[forgotten]" from its first moment and could never mail its client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from domains.personal_data import open_text
from infra.bootstrap import open_platform
from infra.client_keys import PostgresClientKeys
from infra.demo import seed_demo
from tests.support.world import World


async def test_the_demo_albums_client_reads_as_the_client(world: World, tmp_path: Path) -> None:
    settings = world.settings.model_copy(update={"demo_photos_dir": str(tmp_path / "photos")})
    async with open_platform(settings) as platform:
        seeded = await seed_demo(platform)
        album_id = UUID(seeded["album_id"])
        key = await PostgresClientKeys(platform.pool).key_of(album_id)
        assert key is not None, "the demo album's client key was not kept"
        album = await asyncio.to_thread(platform.apps["albums"].repository.get, album_id)
        assert open_text(album.client["name"], key) == "Anna Client"
        assert open_text(album.client["email"], key) == "anna@example.com"
