"""Reading an original photo's bytes from where its folder lives: a local root, S3 or Drive.

The sync providers (``infra.cloud``) only list; the render worker and the download routes also
need the bytes, whole (to render) or as a byte range (an HTTP ``Range``, a ZIP entry streamed
in chunks). Local reads are confined like the listing: the file must resolve inside the
folder and inside ``PHOTOFLOW_LOCAL_ROOTS``. S3 reads go through the same outbound rule as the
listing (the studio's endpoint checked before any request). A provider that does not answer
raises ``ProviderUnavailable``, an outage the render worker's failure policy waits out; what
can never be read (a missing file, a refusal) is a ``ProviderError`` that is never retried.

Google Drive reads go through the same client library as the Drive listing
(``google-api-python-client``, signed by ``google-auth`` with the studio's service account or
OAuth grant, at the API and token addresses of our settings): ``files.get`` for the size, then
``files.get_media`` (``alt=media``) with an HTTP ``Range`` per chunk, so a ranged or chunked
read never holds more than a chunk. A file Drive does not know (404), or cannot hand out (a
folder, a Google Doc, no access), is final; no answer, a 5xx or a rate limit, once the
client's own retries are spent (``infra.cloud.drive_client``), is ``ProviderUnavailable``. The
studio's signed credentials are kept, so one access token serves all its files until it
expires. Drive reads are not confined to the folder: a file id comes from the folder's own
catalogue, and the studio's credentials reach only what its own account may read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import aioboto3
import google.auth.credentials
from botocore.exceptions import BotoCoreError, ClientError

from domains.outbound import NO_ALLOWANCE, PrivateAllowance
from infra.cloud.backoff import Backoff
from infra.cloud.base import ProviderError
from infra.cloud.drive_client import KIND as DRIVE
from infra.cloud.drive_client import DriveClient, DriveRefused
from infra.cloud.google_drive import (
    DRIVE_API_URL,
    FOLDER_ID,
    GOOGLE_TOKEN_URI,
    GoogleDriveProvider,
    drive_credentials,
    drive_folder,
)
from infra.cloud.s3 import S3Provider

CHUNK = 256 * 1024
DRIVE_CHUNK = 4 * 1024 * 1024
"""Bytes per Drive media request: each is a round trip, so larger than a local read's."""
Credentials = Callable[[UUID, str], Awaitable[Mapping[str, str] | None]]
T = TypeVar("T")
Fields = tuple[tuple[str, str], ...]


class ProviderUnavailable(ProviderError, ConnectionError):
    """The provider did not answer (no connection, a 5xx, a rate limit), retries spent.

    Retryable, and a ``ConnectionError`` (an ``OSError``), so ``infra.outages`` calls it an
    outage: the render worker re-raises it and its failure policy waits it out, never parks.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(kind, reason, True)


@dataclass(frozen=True)
class FolderPlace:
    """What reading a folder's files needs: its provider, location and studio."""

    provider: str
    location: str
    org_id: UUID


@dataclass(frozen=True)
class Original:
    """One original, opened: its size, and its bytes on demand (whole or a range)."""

    size: int
    path: Path | None
    """Set for local files: the server can send them with ``sendfile``."""
    _chunks: Callable[[int, int], AsyncIterator[bytes]]

    def chunks(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive; the whole file by default), in chunks."""
        return self._chunks(start, self.size if end is None else end)

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class Originals:
    def __init__(
        self,
        local_roots: Sequence[Path],
        credentials: Credentials,
        allowance: PrivateAllowance = NO_ALLOWANCE,
        *,
        drive_api_url: str = DRIVE_API_URL,
        google_token_uri: str = GOOGLE_TOKEN_URI,
        drive_backoff: Backoff | None = None,
        drive_chunk: int = DRIVE_CHUNK,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._roots = tuple(Path(r).expanduser().resolve() for r in local_roots)
        self._credentials = credentials
        self._allowance = allowance
        self._drive_api_url = drive_api_url
        self._token_uri = google_token_uri
        self._drive_backoff = drive_backoff or Backoff()
        self._drive_chunk = drive_chunk
        self._timeout = timeout_seconds
        self._signers: dict[tuple[UUID, Fields], google.auth.credentials.Credentials] = {}

    async def open(self, folder: FolderPlace, file_id: str) -> Original:
        if folder.provider == "local":
            return await asyncio.to_thread(self._open_local, folder.location, file_id)
        if folder.provider == "s3":
            return await self._open_s3(folder, file_id)
        if folder.provider == DRIVE:
            return await self._open_drive(folder, file_id)
        raise ProviderError(folder.provider, "is not a storage provider", False)

    def _open_local(self, location: str, file_id: str) -> Original:
        top = Path(location).resolve()
        path = (top / file_id).resolve()
        inside = path.is_relative_to(top) and any(path.is_relative_to(r) for r in self._roots)
        if not inside or not path.is_file():
            raise ProviderError("local", f"{file_id!r} is not a file of this folder", False)
        size = path.stat().st_size

        async def chunks(start: int, end: int) -> AsyncIterator[bytes]:
            with path.open("rb") as handle:
                handle.seek(start)
                left = end - start
                while left > 0:
                    chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk

        return Original(size, path, chunks)

    async def _open_s3(self, folder: FolderPlace, file_id: str) -> Original:
        credentials = await self._credentials(folder.org_id, "s3")
        if not credentials:
            raise ProviderError("s3", "the studio has no settings for this provider", False)
        provider = S3Provider(credentials, allowance=self._allowance)
        bucket, prefix = provider._split(folder.location)
        if not file_id.startswith(prefix):
            raise ProviderError("s3", f"{file_id!r} is not a file of this folder", False)
        await provider._check_endpoint(folder.location)
        session: aioboto3.Session = provider.session

        async def call(**extra: str) -> dict[str, object]:
            try:
                async with session.client("s3", endpoint_url=provider.endpoint_url) as client:
                    answer: dict[str, object] = await client.get_object(
                        Bucket=bucket, Key=file_id, **extra
                    )
                    body = answer["Body"]
                    answer["Bytes"] = await body.read()  # type: ignore[attr-defined]
                    return answer
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                raise ProviderError("s3", f"reading {file_id!r}: {code}", False) from None
            except BotoCoreError:
                raise ProviderUnavailable("s3", f"reading {file_id!r}: no answer") from None

        async with session.client("s3", endpoint_url=provider.endpoint_url) as client:
            try:
                head = await client.head_object(Bucket=bucket, Key=file_id)
            except ClientError:
                raise ProviderError("s3", f"{file_id!r} cannot be read", False) from None
            except BotoCoreError:  # no answer: an outage, not this file's fault
                raise ProviderUnavailable("s3", f"{file_id!r}: no answer") from None
        size = int(head.get("ContentLength", 0))

        async def chunks(start: int, end: int) -> AsyncIterator[bytes]:
            for offset in range(start, end, 8 * CHUNK):
                last = min(end, offset + 8 * CHUNK) - 1
                answer = await call(Range=f"bytes={offset}-{last}")
                data = answer["Bytes"]
                assert isinstance(data, bytes)
                yield data

        return Original(size, None, chunks)

    async def _open_drive(self, folder: FolderPlace, file_id: str) -> Original:
        drive_folder(folder.location)
        if not FOLDER_ID.fullmatch(file_id):
            raise ProviderError(DRIVE, f"{file_id!r} is not a Drive file id", False)
        provider = await self._drive_provider(folder.org_id)
        client = await provider.client()
        request = client.files.get(fileId=file_id, fields="size,mimeType", supportsAllDrives=True)
        item = await _drive(client.call(request), file_id)
        if "size" not in item:  # a folder, a shortcut or a Google Doc: no bytes of its own
            kind = item.get("mimeType", "no type")
            raise ProviderError(DRIVE, f"{file_id!r} has no content to read ({kind})", False)
        size = int(item["size"])
        step = self._drive_chunk

        async def chunks(start: int, end: int) -> AsyncIterator[bytes]:
            reader: DriveClient | None = None
            for offset in range(max(0, start), min(end, size), step):
                last = min(end, size, offset + step) - 1
                # a client per read: an httplib2 connection is not safe in two threads at once
                reader = reader or await provider.client()
                media = reader.files.get_media(fileId=file_id, supportsAllDrives=True)
                media.headers["range"] = f"bytes={offset}-{last}"
                data = await _drive(reader.execute(media), file_id)
                if not isinstance(data, bytes) or len(data) != last + 1 - offset:
                    got = len(data) if isinstance(data, bytes) else type(data).__name__
                    reason = f"{file_id!r}: asked bytes {offset}-{last}, Drive answered {got}"
                    raise ProviderError(DRIVE, reason, False)  # changed since it was opened
                yield data

        return Original(size, None, chunks)

    async def _drive_provider(self, org_id: UUID) -> GoogleDriveProvider:
        """The studio's Drive, signed by credentials kept per studio and settings, so their
        access token is reused until it expires instead of asked for on every file."""
        fields = await self._credentials(org_id, DRIVE)
        if not fields:
            raise ProviderError(DRIVE, "the studio has no settings for this provider", False)
        key = (org_id, tuple(sorted(fields.items())))
        signer = self._signers.get(key)
        if signer is None:
            signer = drive_credentials(fields, self._token_uri)
            if len(self._signers) >= 256:
                self._signers.pop(next(iter(self._signers)))
            self._signers[key] = signer
        return GoogleDriveProvider(
            signer,
            api_url=self._drive_api_url,
            backoff=self._drive_backoff,
            timeout=self._timeout,
        )


async def _drive(answer: Awaitable[T], file_id: str) -> T:
    """Drive's refusals in our terms: gone or refused is final, no answer is an outage."""
    try:
        return await answer
    except DriveRefused as error:
        if error.status == 404:
            raise ProviderError(DRIVE, f"{file_id!r} was not found", False) from None
        if error.retryable:
            raise ProviderUnavailable(DRIVE, f"reading {file_id!r}: {error.reason}") from None
        raise ProviderError(DRIVE, f"reading {file_id!r}: {error.reason}", False) from None
