"""Calls to Drive through the client library: one at a time, in a worker thread, retried.

Retries are ours, not the library's, so the policy is one we can test: truncated exponential
backoff with full jitter on 429, on 5xx, and on 403 when Google's reason is a rate limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import google.auth.exceptions
import httplib2
import orjson
from googleapiclient.errors import HttpError
from googleapiclient.model import JsonModel

from domains.files import FileInfo
from infra.cloud.backoff import Backoff
from infra.cloud.base import ProviderError
from infra.cloud.drive_tree import FOLDER, FolderTree, Walk, file_info

KIND = "google_drive"
RATE_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
LIST_FIELDS = (
    "nextPageToken,files(id,name,mimeType,parents,trashed,size,md5Checksum,version,"
    "modifiedTime,imageMediaMetadata(width,height,rotation,time))"
)


class DriveRefused(ProviderError):
    """Drive answered with an error status; ``status`` lets callers tell a 404 apart."""

    def __init__(self, reason: str, retryable: bool, status: int | None = None) -> None:
        super().__init__(KIND, reason, retryable)
        self.status = status


class OrjsonModel(JsonModel):  # type: ignore[misc]
    """The library's JSON model, parsing with orjson: a 100,000-file listing is 30 MB of JSON,
    and the standard parser spent more time on it than everything else in the client."""

    def deserialize(self, content: bytes | str) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            return content


class DriveClient:
    """One Drive service object and the calls made through it, one at a time."""

    def __init__(self, service: Any, page_size: int, backoff: Backoff) -> None:
        self.service = service
        self.files = service.files()  # built once: the library makes its methods on each call
        self.page_size = page_size
        self.backoff = backoff

    async def call(self, request: Any) -> dict[str, Any]:
        """Execute a request in a worker thread, backing off and retrying what may pass later."""
        answer: dict[str, Any] = await self.execute(request)
        return answer

    async def execute(self, request: Any) -> Any:
        """What ``call`` does, for any request: a media request (``get_media``) answers bytes."""
        retry = 0
        while True:
            try:
                return await asyncio.to_thread(request.execute, num_retries=0)
            except HttpError as error:
                reason, retryable = _judge(error)
                status: int | None = int(error.resp.status)
            except google.auth.exceptions.RefreshError as error:
                reason = f"the Drive credentials were refused: {error}"
                retryable, status = bool(getattr(error, "retryable", False)), None
            except (OSError, httplib2.HttpLib2Error, google.auth.exceptions.TransportError) as e:
                reason, retryable, status = f"Drive did not answer: {e!r}", True, None
            if not retryable:
                raise DriveRefused(reason, retryable=False, status=status)
            if retry >= self.backoff.max_retries:
                raise DriveRefused(f"{reason}; gave up after {retry} retries", True, status)
            await self.backoff.wait(retry)
            retry += 1

    async def check_folder(self, folder: str) -> None:
        """A wrong id fails here, clearly, rather than as an empty listing."""
        request = self.files.get(
            fileId=folder, fields="id,mimeType,trashed", supportsAllDrives=True
        )
        try:
            item = await self.call(request)
        except DriveRefused as error:
            if error.status == 404:
                raise DriveRefused(f"folder {folder!r} was not found", False, 404) from None
            raise
        if item.get("mimeType") != FOLDER or item.get("trashed"):
            raise DriveRefused(f"{folder!r} is not a folder (or is in the trash)", False)

    async def walk(self, walk: Walk) -> AsyncIterator[list[FileInfo]]:
        """Run a breadth-first walk, one files.list request ahead of the caller."""
        pending = self._start(walk, None)
        try:
            while pending is not None:
                answer = await pending
                page = walk.take(answer.get("files", []))
                pending = self._start(walk, answer.get("nextPageToken"))
                if page:
                    yield page
        finally:  # the caller stopped early or failed: drop the request made for it
            if pending is not None:
                pending.cancel()
                if pending.done() and not pending.cancelled():
                    pending.exception()  # retrieved, so asyncio does not log it as lost

    def _start(self, walk: Walk, page_token: str | None) -> asyncio.Task[dict[str, Any]] | None:
        query = walk.query(page_token)
        if query is None:
            return None
        request = self.files.list(
            q=query,
            pageSize=self.page_size,
            pageToken=page_token,
            fields=LIST_FIELDS,
            supportsAllDrives=True,
            includeItemsFromAllDrives=True,
            spaces="drive",
        )
        return asyncio.ensure_future(self.call(request))

    async def apply(
        self, tree: FolderTree, changes: list[dict[str, Any]]
    ) -> tuple[dict[str, FileInfo], dict[str, None]]:
        """Sort one page of the change feed into files changed and ids removed (last wins)."""
        changed: dict[str, FileInfo] = {}
        removed: dict[str, None] = {}

        def remove(file_id: str) -> None:
            changed.pop(file_id, None)
            removed[file_id] = None

        def change(info: FileInfo) -> None:
            removed.pop(info.file_id, None)
            changed[info.file_id] = info

        for entry in changes:
            file_id, item = str(entry["fileId"]), entry.get("file")
            if entry.get("removed") or item is None:
                tree.drop(file_id)
                remove(file_id)
                continue
            parent = None if item.get("trashed") else tree.parent_of(item)
            if item.get("mimeType") != FOLDER:
                info = file_info(item, tree.path(parent)) if parent is not None else None
                if info is None:
                    remove(file_id)
                else:
                    change(info)
            elif file_id == tree.top:
                if item.get("trashed"):  # the synced folder itself went to the trash
                    async for page in self.walk(Walk(tree, include_trashed=True)):
                        for info in page:
                            remove(info.file_id)
            elif parent is None:  # trashed, moved out or never ours: nothing below is ours now
                async for page in self.walk(Walk(tree.cut(file_id), include_trashed=True)):
                    for info in page:
                        remove(info.file_id)
            else:  # arrived, moved or renamed: its files' paths may be new
                tree.place(item)
                async for page in self.walk(Walk(tree, roots=[file_id])):
                    for info in page:
                        change(info)
        return changed, removed


def _judge(error: HttpError) -> tuple[str, bool]:
    """What went wrong, and whether Google says to retry: 429, 5xx, 403 rate limits."""
    status = int(error.resp.status)
    reasons: set[str] = set()
    try:
        details = json.loads(error.content.decode("utf-8", "replace"))["error"]
        reasons = {str(item.get("reason")) for item in details.get("errors", [])}
        message = str(details.get("message", error.reason))
    except (ValueError, KeyError, TypeError, AttributeError):
        message = str(error.reason)
    retryable = status == 429 or status >= 500 or (status == 403 and bool(reasons & RATE_LIMITS))
    label = ", ".join(sorted(reasons)) or "no reason"
    return f"Drive answered {status} ({label}): {message}", retryable
