"""The ``s3`` provider: a bucket prefix, listed with ListObjectsV2 through aioboto3.

S3 (and every store that speaks its protocol, through ``endpoint_url``) has no change feed we
can rely on, so each sync is a full listing; the ETag tells whether an object's content changed.
A listing gives neither dimensions nor capture times: those would cost a read per object.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from domains.files import Changes, FileInfo
from infra.cloud.base import PAGE_SIZE, LocationRefused, NoChangeFeed, ProviderError, mime_for_name

KIND = "s3"
LOCATION = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?")
REFUSED = frozenset(
    {
        "NoSuchBucket",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AllAccessDisabled",
        "InvalidBucketName",
    }
)
"""Error codes no retry will cure; anything else (throttling, 5xx) may pass later."""


class S3Provider:
    kind = KIND

    def __init__(
        self, credentials: Mapping[str, str], page_size: int = PAGE_SIZE, max_attempts: int = 8
    ) -> None:
        self.session = aioboto3.Session(
            aws_access_key_id=credentials.get("access_key_id"),
            aws_secret_access_key=credentials.get("secret_access_key"),
            region_name=credentials.get("region"),
        )
        self.endpoint_url = credentials.get("endpoint_url") or None
        self.page_size = page_size
        self.config = Config(retries={"mode": "standard", "max_attempts": max_attempts})

    def check_location(self, location: str) -> str:
        return s3_location(location)

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        bucket, prefix = self._split(location)
        try:
            async with self.session.client(
                "s3", endpoint_url=self.endpoint_url, config=self.config
            ) as client:
                paginator = client.get_paginator("list_objects_v2")
                async for answer in paginator.paginate(
                    Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size}
                ):
                    page = [
                        info
                        for item in answer.get("Contents", ())
                        if (info := _file_info(item, prefix)) is not None
                    ]
                    if page:
                        yield page
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            raise ProviderError(KIND, f"{location}: {error}", code not in REFUSED) from None
        except BotoCoreError as error:
            raise ProviderError(KIND, f"{location}: {error}", retryable=True) from None

    async def start_cursor(self, location: str) -> str | None:
        self.check_location(location)
        return None

    async def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        raise NoChangeFeed(KIND)
        yield  # pragma: no cover - makes this an async generator

    def _split(self, location: str) -> tuple[str, str]:
        bucket, _, prefix = self.check_location(location).removeprefix("s3://").partition("/")
        return bucket, prefix


def s3_location(location: str) -> str:
    """``s3://bucket/prefix/`` (or ``s3://bucket/``), or ``LocationRefused``."""
    match = LOCATION.fullmatch(location.strip())
    if match is None:
        raise LocationRefused(KIND, location, "is not of the form s3://bucket/prefix")
    prefix = (match["prefix"] or "").strip("/")
    return f"s3://{match['bucket']}/{prefix}/" if prefix else f"s3://{match['bucket']}/"


def _file_info(item: dict[str, Any], prefix: str) -> FileInfo | None:
    """An object as a FileInfo, None for folder markers and anything that is not a photo."""
    key = str(item["Key"])
    folder, _, name = key[len(prefix) :].rpartition("/")
    mime_type = mime_for_name(name)
    if mime_type is None or not name:
        return None
    modified: datetime = item["LastModified"]
    return FileInfo(
        file_id=key,
        name=name,
        path=folder,
        mime_type=mime_type,
        size=int(item.get("Size", 0)),
        checksum=str(item.get("ETag", "")).strip('"'),
        modified_at=modified.astimezone(UTC),
    )
