"""The ``s3`` provider: a bucket prefix, listed with ListObjectsV2 through aioboto3.

S3 (and every store that speaks its protocol, through ``endpoint_url``) has no change feed we
can rely on, so each sync is a full listing; the ETag tells whether an object's content changed.
A listing gives neither dimensions nor capture times: those would cost a read per object.

``endpoint_url`` is the studio's to choose, so the provider only ever connects where the
outbound rule allows (``domains.outbound``, ``infra.cloud.outbound``), and its errors are
written in our words: a remote server's message lands in a sync error every member reads, so
it is never copied, only its error code, when that looks like one.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)

from domains.errors import InvalidValue
from domains.files import Changes, FileInfo
from domains.outbound import NO_ALLOWANCE, PrivateAllowance, check_endpoint
from infra.cloud.base import PAGE_SIZE, LocationRefused, NoChangeFeed, ProviderError, mime_for_name
from infra.cloud.outbound import GuardedResolver, OutboundPolicy

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
ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")
"""What an S3 error code looks like; anything else a server sends is not repeated."""


class S3Provider:
    kind = KIND

    def __init__(
        self,
        credentials: Mapping[str, str],
        page_size: int = PAGE_SIZE,
        max_attempts: int = 8,
        allowance: PrivateAllowance = NO_ALLOWANCE,
    ) -> None:
        self.session, self.endpoint_url = s3_session(credentials)
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.allowance = allowance

    def check_location(self, location: str) -> str:
        return s3_location(location)

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        bucket, prefix = self._split(location)
        await self._check_endpoint(location)
        resolver = GuardedResolver(self.allowance)
        config = AioConfig(
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            connector_args={"resolver": resolver},
        )
        try:
            async with self.session.client(
                "s3", endpoint_url=self.endpoint_url, config=config
            ) as client:
                client.meta.events.register_first("needs-retry.s3", _no_retry_after(resolver))
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
        except _Refused as refused:
            raise ProviderError(KIND, f"{location}: {refused}", retryable=False) from None
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            raise ProviderError(
                KIND, f"{location}: {client_error_reason(code)}", code not in REFUSED
            ) from None
        except BotoCoreError as error:
            if resolver.refused is not None:
                raise ProviderError(KIND, f"{location}: {resolver.refused}", False) from None
            raise ProviderError(KIND, f"{location}: {transport_reason(error)}", True) from None

    async def _check_endpoint(self, location: str) -> None:
        """Refuse, before any request, an endpoint the outbound rule forbids.

        Settings saved before the rule existed are caught here, and a name is resolved once
        up front so a refusal is immediate rather than after the client's retries.
        """
        if self.endpoint_url is None:
            return
        try:
            endpoint = check_endpoint("endpoint_url", self.endpoint_url, self.allowance)
        except InvalidValue as refused:
            raise ProviderError(
                KIND, f"{location}: the studio's endpoint_url {refused.message}", False
            ) from None
        if endpoint.address is None:
            refusal = await OutboundPolicy(self.allowance).name_refusal(endpoint.host)
            if refusal is not None:
                raise ProviderError(KIND, f"{location}: {refusal}", False)

    async def start_cursor(self, location: str) -> str | None:
        self.check_location(location)
        return None

    async def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        raise NoChangeFeed(KIND)
        yield  # pragma: no cover - makes this an async generator

    def _split(self, location: str) -> tuple[str, str]:
        bucket, _, prefix = self.check_location(location).removeprefix("s3://").partition("/")
        return bucket, prefix


def s3_session(credentials: Mapping[str, str]) -> tuple[aioboto3.Session, str | None]:
    """(a session, the endpoint URL or None for AWS) from S3 fields: ``access_key_id``,
    ``secret_access_key``, ``region``, ``endpoint_url``, passed as they are (an absent one is
    left to boto's own defaults)."""
    session = aioboto3.Session(
        aws_access_key_id=credentials.get("access_key_id"),
        aws_secret_access_key=credentials.get("secret_access_key"),
        region_name=credentials.get("region"),
    )
    return session, credentials.get("endpoint_url") or None


def s3_location(location: str) -> str:
    """``s3://bucket/prefix/`` (or ``s3://bucket/``), or ``LocationRefused``."""
    match = LOCATION.fullmatch(location.strip())
    if match is None:
        raise LocationRefused(KIND, location, "is not of the form s3://bucket/prefix")
    prefix = (match["prefix"] or "").strip("/")
    return f"s3://{match['bucket']}/{prefix}/" if prefix else f"s3://{match['bucket']}/"


class _Refused(Exception):
    """The client connected nowhere: the outbound rule refused the address a name resolved to."""


def _no_retry_after(resolver: GuardedResolver) -> Callable[..., None]:
    """A botocore hook: a refused address is final, so the client's retries stop at once."""

    def check(**_: Any) -> None:
        if resolver.refused is not None:
            raise _Refused(resolver.refused)

    return check


def client_error_reason(code: str) -> str:
    """An S3 error answer in our words: the code when it looks like one, never the message."""
    shown = f" ({code})" if ERROR_CODE.fullmatch(code) else ""
    if code in REFUSED:
        return f"the S3 endpoint refused the request{shown}"
    return f"the S3 endpoint answered with an error{shown}"


def transport_reason(error: BotoCoreError) -> str:
    """A failure to talk to the endpoint, by kind; the error's own text may quote the answer."""
    if isinstance(error, EndpointConnectionError):
        return "could not connect to the S3 endpoint"
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "the S3 endpoint did not answer in time"
    if isinstance(error, SSLError):
        return "the S3 endpoint's TLS certificate or handshake was refused"
    return f"the S3 endpoint's answer could not be used ({type(error).__name__})"


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
