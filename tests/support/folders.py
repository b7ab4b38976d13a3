"""Folders synced through the real command path, and their catalogue as the read side shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from commands.group_commit import GroupCommitter
from commands.storage import StorageCommands
from infra.bootstrap import Platform
from projections.files import FilesProjection
from projections.rebuild import rebuild
from tests.support.relaying import publish_everything


async def register_and_start(
    platform: Platform,
    provider: str,
    location: str,
    mode: str = "full",
    folder_id: UUID | None = None,
) -> UUID:
    """A folder (new unless ``folder_id`` is given) with a sync requested."""
    async with GroupCommitter(platform.apps["folders"]) as committer:
        commands = StorageCommands(committer)
        if folder_id is None:
            written = await commands.register(uuid4(), provider, location, "Test folder", uuid4())
            folder_id = written.aggregate_id
        await commands.start_sync(folder_id, mode, actor="test")
    return folder_id


async def catalogue_rows(platform: Platform, folder_id: UUID) -> dict[str, dict[str, Any]]:
    """read.files for the folder, rebuilt from Kafka: what the photos route would page."""
    await publish_everything(platform)
    settings = platform.settings
    await rebuild(
        FilesProjection(),
        platform.pool,
        settings.kafka_bootstrap,
        1000,
        topic_prefix=settings.topic_prefix,
        progress=False,
    )
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT file_id, name, path, size, width, height, taken_at, checksum "
            "FROM read.files WHERE folder_id = $1",
            folder_id,
        )
    finally:
        await conn.close()
    return {r["file_id"]: dict(r) for r in rows}


def write_photo(root: Path, relative: str, content: bytes = b"x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
