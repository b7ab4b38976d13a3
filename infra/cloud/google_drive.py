"""The ``google_drive`` provider: a Drive folder, listed through Google's own client library.

``google-api-python-client`` builds the Drive v3 client from the discovery document it bundles
(no network needed for that), ``google-auth`` signs the requests with the studio's service
account or OAuth refresh token, and the API and token addresses are settings, so tests point
both at a local server that speaks the same protocol.

The library is blocking (httplib2), so each request runs in a worker thread, and the next page
is requested while the caller is still storing the current one. Retries are ours, not the
library's: truncated exponential backoff with full jitter on 429, 5xx and 403 rate limits.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import google.auth.credentials
import google.auth.exceptions
import google.oauth2.credentials
import httplib2
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from domains.files import Changes, FileInfo
from infra.cloud.backoff import Backoff
from infra.cloud.base import PAGE_SIZE, LocationRefused, ProviderError
from infra.cloud.drive_tree import FOLDER, FolderTree, Walk, file_info

KIND = "google_drive"
DRIVE_API_URL = "https://www.googleapis.com/drive/v3/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPES = ("https://www.googleapis.com/auth/drive.readonly",)
ITEM_FIELDS = (
    "id,name,mimeType,parents,trashed,size,md5Checksum,version,modifiedTime,"
    "imageMediaMetadata(width,height,rotation,time)"
)
LIST_FIELDS = f"nextPageToken,files({ITEM_FIELDS})"
CHANGE_FIELDS = f"nextPageToken,newStartPageToken,changes(fileId,removed,file({ITEM_FIELDS}))"
RATE_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
FOLDER_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
"""Drive ids are URL-safe base64: checking them keeps quotes out of the ``q`` we build."""


def drive_credentials(
    fields: Mapping[str, str], token_uri: str = GOOGLE_TOKEN_URI
) -> google.auth.credentials.Credentials:
    """The studio's service account, or else its OAuth user grant, read-only on Drive.

    ``token_uri`` comes from our settings and overrides the one inside a service account's
    JSON: tokens are only ever requested where the platform's operator says.
    """
    try:
        if "service_account_json" in fields:
            info = {**json.loads(fields["service_account_json"]), "token_uri": token_uri}
            account: google.auth.credentials.Credentials = (
                service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=SCOPES
                )
            )
            return account
        return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=fields["refresh_token"],
            client_id=fields["client_id"],
            client_secret=fields["client_secret"],
            token_uri=token_uri,
            scopes=SCOPES,
        )
    except (KeyError, ValueError, TypeError) as error:
        reason = f"the Drive credentials are incomplete or malformed ({error})"
        raise ProviderError(KIND, reason, retryable=False) from None


class DriveRefused(ProviderError):
    """Drive answered with an error status; ``status`` lets callers tell a 404 apart."""

    def __init__(self, reason: str, retryable: bool, status: int | None = None) -> None:
        super().__init__(KIND, reason, retryable)
        self.status = status


class GoogleDriveProvider:
    kind = KIND

    def __init__(
        self,
        credentials: google.auth.credentials.Credentials,
        api_url: str = DRIVE_API_URL,
        page_size: int = PAGE_SIZE,
        backoff: Backoff | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.credentials = credentials
        self.api_url = api_url
        self.page_size = page_size
        self.backoff = backoff or Backoff()
        self.timeout = timeout

    def check_location(self, location: str) -> str:
        folder = location.strip()
        if not FOLDER_ID.fullmatch(folder):
            raise LocationRefused(KIND, location, "is not a Drive folder id")
        return folder

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        folder = self.check_location(location)
        client = await self._client()
        await client.check_folder(folder)
        async for page in client.walk(Walk(FolderTree(folder))):
            yield page

    async def start_cursor(self, location: str) -> str | None:
        self.check_location(location)
        client = await self._client()
        answer = await client.call(
            client.service.changes().getStartPageToken(supportsAllDrives=True)
        )
        return str(answer["startPageToken"])

    async def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        """Changes below the folder, one Drive page at a time.

        The folder tree is listed first, so each change can be placed: a file whose parent is
        in the tree is changed, one that left it (trashed, moved out) is removed. A folder that
        arrives or is renamed has its files listed again (their ``path`` changed); one that
        leaves has its files removed. Ids the feed reports as removed are passed on as they
        are, even those that were never below the folder: the catalogue ignores unknown ids.
        """
        folder = self.check_location(location)
        client = await self._client()
        tree = FolderTree(folder)
        async for _ in client.walk(Walk(tree, folders_only=True)):
            pass
        token: str | None = cursor
        while token:
            answer = await client.call(
                client.service.changes().list(
                    pageToken=token,
                    pageSize=self.page_size,
                    fields=CHANGE_FIELDS,
                    includeRemoved=True,
                    supportsAllDrives=True,
                    includeItemsFromAllDrives=True,
                    spaces="drive",
                )
            )
            changed, removed = await client.apply(tree, answer.get("changes", []))
            token = answer.get("nextPageToken")
            yield Changes(
                changed=tuple(changed.values()),
                removed=tuple(removed),
                next_cursor=None if token else str(answer["newStartPageToken"]),
            )

    async def _client(self) -> DriveClient:
        """A client of its own for each listing: an httplib2 connection is not thread-safe."""
        http = AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))
        service = await asyncio.to_thread(
            build,
            "drive",
            "v3",
            http=http,
            static_discovery=True,
            client_options={"api_endpoint": self.api_url},
            cache_discovery=False,
        )
        return DriveClient(service, self.page_size, self.backoff)


class DriveClient:
    """One Drive service object and the calls made through it, one at a time."""

    def __init__(self, service: Any, page_size: int, backoff: Backoff) -> None:
        self.service = service
        self.files = service.files()  # built once: the library makes its methods on each call
        self.page_size = page_size
        self.backoff = backoff

    async def call(self, request: Any) -> dict[str, Any]:
        """Execute a request in a worker thread, backing off and retrying what may pass later."""
        retry = 0
        while True:
            try:
                answer: dict[str, Any] = await asyncio.to_thread(request.execute, num_retries=0)
                return answer
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
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

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
            elif parent is None:
                if file_id in tree:  # the folder left: so did everything below it
                    below = Walk(tree.cut(file_id), include_trashed=True)
                    async for page in self.walk(below):
                        for info in page:
                            remove(info.file_id)
            elif tree.place(item):  # arrived, moved or renamed: its files' paths are new
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
