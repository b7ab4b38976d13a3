"""The rendition store's adapters (``commands.rendition_store.RenditionStore``): a directory or
an S3 bucket, chosen by ``PHOTOFLOW_RENDITIONS_URL``.

Both name a rendition by the SHA-256 of its checksum (a provider's text: an S3 ETag with
quotes, ``size-mtime`` on disk), fanned out over 256 prefixes: ``<kind>/<key[:2]>/<key>.jpg``
below the directory, or below the bucket's prefix. A reader never sees half a JPEG: the
directory writes under a temporary name and renames into place, and an S3 PUT is atomic; two
workers racing write the same bytes harmlessly.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from commands.rendition_store import (
    MEDIA_TYPE,
    RenditionStore,
    checked_kind,
    rendition_etag,
    rendition_key,
)
from domains.rendition import KINDS
from infra.cloud.base import LocationRefused
from infra.cloud.s3 import REFUSED, client_error_reason, s3_location, s3_session
from infra.settings import Settings

__all__ = [
    "MEDIA_TYPE",
    "DirectoryRenditionStore",
    "RenditionStore",
    "RenditionStoreUnavailable",
    "S3RenditionStore",
    "rendition_key",
]


class DirectoryRenditionStore:
    """Renditions as files below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, checksum: str, kind: str) -> Path:
        key = rendition_key(checksum)
        return self.root / checked_kind(kind) / key[:2] / f"{key}.jpg"

    async def read(self, checksum: str, kind: str) -> bytes | None:
        try:
            with open(self._path(checksum, kind), "rb") as handle:
                # small files, in the page cache: a thread hop would cost more than the read
                return handle.read()
        except FileNotFoundError:
            return None

    async def write(self, checksum: str, kind: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(checksum, kind), data)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    async def has_all(self, checksum: str) -> bool:
        paths = [self._path(checksum, kind) for kind in KINDS]
        return await asyncio.to_thread(lambda: all(path.is_file() for path in paths))

    def etag(self, checksum: str, kind: str) -> str:
        return rendition_etag(checksum, checked_kind(kind))


class RenditionStoreUnavailable(ConnectionError):
    """The bucket did not answer, or answered with an error a later try may not meet.

    A ``ConnectionError`` (an ``OSError``): the failure policies wait it out as an outage.
    """


class RenditionStoreRefused(Exception):
    """The bucket refused the request (no such bucket, access denied): a setting to fix."""


NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class S3RenditionStore:
    """Renditions as objects ``<prefix>/<kind>/<key[:2]>/<key>.jpg`` of one bucket.

    One client for the store's life (its connection pool is reused by every call), opened on
    first use in the running event loop; ``aclose`` closes it.
    """

    def __init__(
        self, location: str, credentials: Mapping[str, str], max_connections: int = 32
    ) -> None:
        try:
            bucket, _, prefix = s3_location(location).removeprefix("s3://").partition("/")
        except LocationRefused:
            raise ValueError(f"{location!r} is not of the form s3://bucket/prefix") from None
        self.bucket = bucket
        self.prefix = prefix  # "" or ending in "/"
        self._session, self._endpoint_url = s3_session(credentials)
        self._config = AioConfig(
            retries={"mode": "standard", "max_attempts": 4},
            max_pool_connections=max_connections,
        )
        self._client: Any = None
        self._opening = asyncio.Lock()
        self._stack = AsyncExitStack()

    def key(self, checksum: str, kind: str) -> str:
        name = rendition_key(checksum)
        return f"{self.prefix}{checked_kind(kind)}/{name[:2]}/{name}.jpg"

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._stack.enter_async_context(
                        self._session.client(
                            "s3", endpoint_url=self._endpoint_url, config=self._config
                        )
                    )
        return self._client

    async def aclose(self) -> None:
        self._client = None
        await self._stack.aclose()

    async def read(self, checksum: str, kind: str) -> bytes | None:
        key = self.key(checksum, kind)
        s3 = await self._s3()
        with _translated(key):
            try:
                answer = await s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _code(error) in NOT_FOUND:
                    return None
                raise
            async with answer["Body"] as body:
                data: bytes = await body.read()
        return data

    async def write(self, checksum: str, kind: str, data: bytes) -> None:
        key = self.key(checksum, kind)
        s3 = await self._s3()
        with _translated(key):
            await s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=MEDIA_TYPE)

    async def has_all(self, checksum: str) -> bool:
        found = await asyncio.gather(*(self._exists(checksum, kind) for kind in KINDS))
        return all(found)

    async def _exists(self, checksum: str, kind: str) -> bool:
        key = self.key(checksum, kind)
        s3 = await self._s3()
        with _translated(key):
            try:
                await s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _code(error) in NOT_FOUND:
                    return False
                raise
        return True

    def etag(self, checksum: str, kind: str) -> str:
        return rendition_etag(checksum, checked_kind(kind))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """S3's errors in our words: a refusal is a setting to fix, anything else an outage."""
    try:
        yield
    except ClientError as error:
        code = _code(error)
        reason = f"rendition store, {key}: {client_error_reason(code)}"
        if code in REFUSED:
            raise RenditionStoreRefused(reason) from None
        raise RenditionStoreUnavailable(reason) from None
    except BotoCoreError as error:
        raise RenditionStoreUnavailable(f"rendition store, {key}: {type(error).__name__}") from None


def rendition_store(settings: Settings) -> DirectoryRenditionStore | S3RenditionStore:
    """The store the settings name: ``renditions_url`` empty for the directory
    ``renditions_dir``, ``s3://bucket/prefix`` for a bucket (``renditions_s3_*``)."""
    url = settings.renditions_url.strip()
    if not url:
        return DirectoryRenditionStore(Path(settings.renditions_dir))
    if not url.startswith("s3://"):
        raise ValueError(f"PHOTOFLOW_RENDITIONS_URL {url!r} is neither empty nor s3://bucket/...")
    secret = settings.renditions_s3_secret_access_key
    fields = {
        "endpoint_url": settings.renditions_s3_endpoint_url,
        "region": settings.renditions_s3_region,
        "access_key_id": settings.renditions_s3_access_key_id,
        "secret_access_key": secret.get_secret_value() if secret is not None else "",
    }
    # an empty setting is left to boto's defaults (environment, config files, instance role)
    return S3RenditionStore(url, {name: value for name, value in fields.items() if value})
