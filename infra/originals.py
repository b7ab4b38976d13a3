"""Reading an original photo's bytes from where its folder lives: a local root or S3.

The sync providers (``infra.cloud``) only list; the render worker and the download routes also
need the bytes, whole (to render) or as a byte range (an HTTP ``Range``, a ZIP entry streamed
in chunks). Local reads are confined like the listing: the file must resolve inside the
folder and inside ``PHOTOFLOW_LOCAL_ROOTS``. S3 reads go through the same outbound rule as the
listing (the studio's endpoint checked before any request). Google Drive originals are not
served yet: they answer ``ProviderError`` (a render failure recorded, a 404 on download).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError

from domains.outbound import NO_ALLOWANCE, PrivateAllowance
from infra.cloud.base import ProviderError
from infra.cloud.s3 import S3Provider

CHUNK = 256 * 1024
Credentials = Callable[[UUID, str], Awaitable[Mapping[str, str] | None]]


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
    ) -> None:
        self._roots = tuple(Path(r).expanduser().resolve() for r in local_roots)
        self._credentials = credentials
        self._allowance = allowance

    async def open(self, folder: FolderPlace, file_id: str) -> Original:
        if folder.provider == "local":
            return await asyncio.to_thread(self._open_local, folder.location, file_id)
        if folder.provider == "s3":
            return await self._open_s3(folder, file_id)
        raise ProviderError(folder.provider, "originals are not readable from it yet", False)

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
                raise ProviderError("s3", f"reading {file_id!r}: no answer", True) from None

        async with session.client("s3", endpoint_url=provider.endpoint_url) as client:
            try:
                head = await client.head_object(Bucket=bucket, Key=file_id)
            except (ClientError, BotoCoreError):
                raise ProviderError("s3", f"{file_id!r} cannot be read", False) from None
        size = int(head.get("ContentLength", 0))

        async def chunks(start: int, end: int) -> AsyncIterator[bytes]:
            for offset in range(start, end, 8 * CHUNK):
                last = min(end, offset + 8 * CHUNK) - 1
                answer = await call(Range=f"bytes={offset}-{last}")
                data = answer["Bytes"]
                assert isinstance(data, bytes)
                yield data

        return Original(size, None, chunks)
