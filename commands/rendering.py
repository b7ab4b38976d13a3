"""The render use case: make the missing renditions of a batch of a folder's files, record them.

Each file is looked up in the rendition store by checksum first: an unchanged file, a renamed
one or a second folder holding the same file costs a lookup. The rest are read through the
folder's provider and rendered in a bounded pool of threads (``parallel``, one per core by
default: Pillow releases the GIL while it decodes, resamples and encodes, so threads use every
core without a process's copy of each original). Results are recorded every ``record_every``
files as a ``Renditions.Made`` event, so a folder's rendition count moves while it renders and
a crash loses at most that many files' records (their store files are found again next time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from commands.group_commit import GroupCommitter
from commands.rendition_store import RenditionStore
from domains.rendition import Renditions
from infra.cloud.base import ProviderError
from infra.imaging import NotAnImage, Rendered, render
from infra.originals import FolderPlace, Originals

log = logging.getLogger(__name__)

RENDERABLE = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
FolderPlaces = Callable[[UUID], Awaitable[FolderPlace]]


class RenderService:
    def __init__(
        self,
        store: RenditionStore,
        originals: Originals,
        places: FolderPlaces,
        committer: GroupCommitter | None,
        parallel: int,
        record_every: int = 16,
    ) -> None:
        self._store = store
        self._originals = originals
        self._places = places
        self._committer = committer
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="render")
        self._slots = asyncio.Semaphore(parallel)
        self._record_every = record_every
        self.rendered = 0
        self.reused = 0
        self.failed = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def render_files(
        self, folder_id: UUID, org_id: UUID, files: Sequence[dict[str, Any]]
    ) -> None:
        """Render what is missing among ``files`` (FileInfo records), recording as it goes."""
        place = await self._places(folder_id)
        ready: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        pending: set[asyncio.Task[None]] = set()

        async def one(file: dict[str, Any]) -> None:
            try:
                entry = await self._one(place, file)
            except (ProviderError, NotAnImage) as error:
                if isinstance(error, ProviderError) and error.retryable:
                    raise  # the provider is away: the failure policy waits it out
                self.failed += 1
                reason = error.reason if isinstance(error, ProviderError) else str(error)
                failed.append(_ref(file) | {"reason": reason[:200]})
            else:
                ready.append(entry)

        for file in files:
            await self._slots.acquire()  # bounded: at most ``parallel`` originals in memory
            task = asyncio.create_task(one(file))
            task.add_done_callback(lambda _: self._slots.release())
            pending.add(task)
            task.add_done_callback(pending.discard)
            if len(ready) + len(failed) >= self._record_every:
                await self._record(org_id, folder_id, ready, failed)
        await asyncio.gather(*pending)
        await self._record(org_id, folder_id, ready, failed)

    async def _one(self, place: FolderPlace, file: dict[str, Any]) -> dict[str, Any]:
        checksum = str(file["checksum"])
        if await self._store.has_all(checksum):
            self.reused += 1
            return _ref(file)
        if file.get("mime_type") not in RENDERABLE:
            raise NotAnImage(f"{file.get('mime_type')} is not rendered")
        original = await self._originals.open(place, str(file["file_id"]))
        data = await original.read()
        loop = asyncio.get_running_loop()
        made: list[Rendered] = await loop.run_in_executor(self._pool, render, data)
        for rendition in made:
            await self._store.write(checksum, rendition.kind, rendition.data)
        self.rendered += 1
        return _ref(file) | {"sizes": {r.kind: [r.width, r.height] for r in made}}

    async def _record(
        self,
        org_id: UUID,
        folder_id: UUID,
        ready: list[dict[str, Any]],
        failed: list[dict[str, Any]],
    ) -> None:
        if not ready and not failed:
            return
        batch_ready, batch_failed = list(ready), list(failed)
        ready.clear()
        failed.clear()
        if self._committer is not None:
            await self._committer.execute(
                lambda batch: batch.add(
                    Renditions.record(org_id, folder_id, batch_ready, batch_failed)
                )
            )


def _ref(file: dict[str, Any]) -> dict[str, Any]:
    return {"file_id": str(file["file_id"]), "checksum": str(file["checksum"])}
