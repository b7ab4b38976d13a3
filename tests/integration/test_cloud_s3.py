"""The S3 provider: aioboto3 against moto's S3 server on a free local port."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest

from domains.files import FileInfo
from domains.outbound import PrivateAllowance
from infra.cloud import (
    LocationRefused,
    NoChangeFeed,
    ProviderConfig,
    ProviderError,
    StorageProvider,
    make_provider,
)
from tests.support.moto import moto_bucket

BUCKET = "studio-photos"
KEYS = 1010


@pytest.fixture(scope="module")
def settings() -> Iterator[dict[str, str]]:
    """A studio's S3 settings pointing at moto, with a bucket of nested keys."""
    keys = [f"weddings/2024/day-{n % 3}/IMG_{n:05d}.JPG" for n in range(KEYS)]
    keys += [
        "weddings/2024/contract.pdf",
        "weddings/2024/empty/",
        "weddings/cover.webp",
        "portraits/IMG_1.jpg",
    ]
    with moto_bucket(BUCKET) as (fields, s3):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode()), keys))
        yield fields


def provider(settings: dict[str, str]) -> StorageProvider:
    """Moto listens on loopback, which studio endpoints may name only when the operator allows."""
    allowance = PrivateAllowance.parse(["127.0.0.1"])
    return make_provider("s3", settings, ProviderConfig(allowance=allowance))


async def listing(source: StorageProvider, location: str) -> list[list[FileInfo]]:
    return [page async for page in source.pages(location)]


async def test_lists_images_below_the_prefix_in_pages(settings: dict[str, str]) -> None:
    pages = await listing(provider(settings), f"s3://{BUCKET}/weddings")

    assert len(pages) == 2  # ListObjectsV2 pages of 1,000 keys
    files = {info.file_id: info for page in pages for info in page}
    assert len(files) == KEYS + 1
    photo = files["weddings/2024/day-1/IMG_00001.JPG"]
    assert (photo.name, photo.path) == ("IMG_00001.JPG", "2024/day-1")
    assert photo.mime_type == "image/jpeg"
    assert photo.checksum == hashlib.md5(photo.file_id.encode()).hexdigest()  # the ETag
    assert photo.size == len(photo.file_id)
    assert photo.modified_at.tzinfo is UTC
    assert files["weddings/cover.webp"].path == ""
    assert not any(key.endswith((".pdf", "/")) or key.startswith("portraits") for key in files)


async def test_a_bucket_listing_and_a_prefix_with_a_slash_agree(settings: dict[str, str]) -> None:
    source = provider(settings)
    everything = [info for page in await listing(source, f"s3://{BUCKET}") for info in page]
    assert len(everything) == KEYS + 2
    assert source.check_location(f"s3://{BUCKET}/weddings/") == f"s3://{BUCKET}/weddings/"


async def test_missing_buckets_and_bad_locations_are_refused(settings: dict[str, str]) -> None:
    source = provider(settings)
    with pytest.raises(ProviderError) as caught:
        await listing(source, "s3://no-such-bucket/x")
    assert not caught.value.retryable
    for location in ("https://example.com/bucket", "s3://", "s3://UPPER/x", "bucket/prefix"):
        with pytest.raises(LocationRefused):
            await listing(source, location)


async def test_no_change_feed(settings: dict[str, str]) -> None:
    source = provider(settings)
    assert await source.start_cursor(f"s3://{BUCKET}/weddings") is None
    with pytest.raises(NoChangeFeed):
        await anext(source.changes(f"s3://{BUCKET}/weddings", "cursor"))
