"""The rendition store's adapters: a directory, and an S3 bucket on moto's S3 server.

Both answer the same contract (``commands.rendition_store.RenditionStore``); the bucket's
objects are looked at with a plain boto3 client, so the key layout is checked, not assumed.
The render use case is driven once with the bucket, to see its renditions land there.
"""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench.rendition_files import make_jpeg
from commands.rendering import RenderService
from commands.rendition_store import RenditionStore, rendition_key
from domains.rendition import KINDS, PREVIEW, THUMBNAIL
from infra.originals import FolderPlace, Originals
from infra.outages import is_outage
from infra.rendition_store import (
    DirectoryRenditionStore,
    RenditionStoreRefused,
    RenditionStoreUnavailable,
    S3RenditionStore,
    rendition_store,
)
from infra.settings import Settings
from tests.support.moto import moto_bucket

BUCKET = "photoflow-renditions"
PREFIX = "renditions"
WATERMARKED = "preview-wm-0123456789abcdef"


@pytest.fixture(scope="module")
def bucket() -> Iterator[tuple[dict[str, str], Any]]:
    with moto_bucket(BUCKET) as (fields, s3):
        yield fields, s3


@pytest.fixture
async def s3_store(bucket: tuple[dict[str, str], Any]) -> AsyncIterator[S3RenditionStore]:
    store = S3RenditionStore(f"s3://{BUCKET}/{PREFIX}/", bucket[0])
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture(params=["directory", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, bucket: tuple[dict[str, str], Any]
) -> AsyncIterator[RenditionStore]:
    if request.param == "directory":
        yield DirectoryRenditionStore(tmp_path / "renditions")
        return
    s3 = S3RenditionStore(f"s3://{BUCKET}/{PREFIX}", bucket[0])
    try:
        yield s3
    finally:
        await s3.aclose()


def checksum() -> str:
    """A provider's checksum: an S3 ETag comes with its quotes."""
    return f'"{uuid.uuid4().hex}"'


async def test_what_is_written_is_read_back_and_nothing_else(store: RenditionStore) -> None:
    photo, other = checksum(), checksum()
    assert await store.read(photo, THUMBNAIL) is None
    await store.write(photo, THUMBNAIL, b"small jpeg")
    await store.write(photo, WATERMARKED, b"marked jpeg")

    assert await store.read(photo, THUMBNAIL) == b"small jpeg"
    assert await store.read(photo, WATERMARKED) == b"marked jpeg", "kinds with dashes"
    assert await store.read(photo, PREVIEW) is None, "the watermarked kind is its own"
    assert await store.read(other, THUMBNAIL) is None

    await store.write(photo, THUMBNAIL, b"the same file rendered again")
    assert await store.read(photo, THUMBNAIL) == b"the same file rendered again"


async def test_has_all_needs_every_kind(store: RenditionStore) -> None:
    photo = checksum()
    assert not await store.has_all(photo)
    await store.write(photo, THUMBNAIL, b"t")
    await store.write(photo, WATERMARKED, b"w")
    assert not await store.has_all(photo), "a watermarked preview is not the preview"
    await store.write(photo, PREVIEW, b"p")
    assert await store.has_all(photo)
    assert set(KINDS) == {THUMBNAIL, PREVIEW}


async def test_the_etag_is_strong_and_the_same_for_every_store(store: RenditionStore) -> None:
    photo = checksum()
    key = rendition_key(photo)
    assert store.etag(photo, THUMBNAIL) == f'"{key[:32]}-thumbnail"'
    assert store.etag(photo, WATERMARKED) == f'"{key[:32]}-{WATERMARKED}"'
    assert store.etag(photo, PREVIEW) != store.etag(checksum(), PREVIEW)


@pytest.mark.parametrize("kind", ["", "../preview", "Preview", "preview/x", "a" * 65, "wm_1"])
async def test_a_kind_that_could_leave_its_place_is_refused(
    store: RenditionStore, kind: str
) -> None:
    with pytest.raises(ValueError):
        await store.write(checksum(), kind, b"x")
    with pytest.raises(ValueError):
        await store.read(checksum(), kind)
    with pytest.raises(ValueError):
        store.etag(checksum(), kind)


async def test_objects_are_keyed_below_the_prefix_by_kind_and_fanned_out(
    s3_store: S3RenditionStore, bucket: tuple[dict[str, str], Any]
) -> None:
    photo = checksum()
    key = rendition_key(photo)
    await s3_store.write(photo, WATERMARKED, b"marked")
    s3 = bucket[1]
    name = f"{PREFIX}/{WATERMARKED}/{key[:2]}/{key}.jpg"
    stored = s3.get_object(Bucket=BUCKET, Key=name)
    assert stored["Body"].read() == b"marked"
    assert stored["ContentType"] == "image/jpeg"
    assert s3_store.key(photo, THUMBNAIL) == f"{PREFIX}/thumbnail/{key[:2]}/{key}.jpg"


async def test_one_client_serves_every_call(s3_store: S3RenditionStore) -> None:
    first = await s3_store._s3()
    await s3_store.write(checksum(), THUMBNAIL, b"x")
    await s3_store.has_all(checksum())
    assert await s3_store._s3() is first


async def test_a_missing_bucket_is_refused_and_an_absent_server_is_an_outage(
    bucket: tuple[dict[str, str], Any],
) -> None:
    missing = S3RenditionStore("s3://no-such-bucket/r", bucket[0])
    try:
        with pytest.raises(RenditionStoreRefused):
            await missing.write(checksum(), THUMBNAIL, b"x")
    finally:
        await missing.aclose()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    away = S3RenditionStore(
        f"s3://{BUCKET}/r", {**bucket[0], "endpoint_url": f"http://127.0.0.1:{port}"}
    )
    try:
        with pytest.raises(RenditionStoreUnavailable) as caught:
            await away.read(checksum(), THUMBNAIL)
        assert is_outage(caught.value), "the render worker waits it out, never parks"
    finally:
        await away.aclose()


def test_the_settings_choose_the_store(tmp_path: Path) -> None:
    directory = rendition_store(Settings(renditions_dir=str(tmp_path)))
    assert isinstance(directory, DirectoryRenditionStore) and directory.root == tmp_path
    bucket = rendition_store(
        Settings(
            renditions_url="s3://my-bucket/photoflow/renditions/",
            renditions_s3_endpoint_url="http://127.0.0.1:9000",
            renditions_s3_region="eu-west-1",
        )
    )
    assert isinstance(bucket, S3RenditionStore)
    assert (bucket.bucket, bucket.prefix) == ("my-bucket", "photoflow/renditions/")
    assert bucket.key("c", "thumbnail").startswith("photoflow/renditions/thumbnail/")
    whole = rendition_store(Settings(renditions_url="s3://my-bucket"))
    assert isinstance(whole, S3RenditionStore) and whole.key("c", "preview").startswith("preview/")
    with pytest.raises(ValueError):
        rendition_store(Settings(renditions_url="ftp://somewhere/renditions"))


async def test_the_render_use_case_writes_into_the_bucket(
    tmp_path: Path, s3_store: S3RenditionStore, bucket: tuple[dict[str, str], Any]
) -> None:
    folder = tmp_path / "shoot"
    make_jpeg(folder / "a.jpg", (1200, 800), seed=1)
    make_jpeg(folder / "b.jpg", (800, 1200), seed=2)
    files = [
        {"file_id": name, "checksum": checksum(), "mime_type": "image/jpeg"}
        for name in ("a.jpg", "b.jpg")
    ]
    place = FolderPlace("local", str(folder), uuid.uuid4())

    async def places(_: uuid.UUID) -> FolderPlace:
        return place

    async def no_credentials(*_: object) -> None:
        return None

    service = RenderService(s3_store, Originals([tmp_path], no_credentials), places, None, 2)
    try:
        await service.render_files(uuid.uuid4(), place.org_id, files)
        assert (service.rendered, service.failed) == (2, 0)
        for file in files:
            assert await s3_store.has_all(file["checksum"])
            thumbnail = await s3_store.read(file["checksum"], THUMBNAIL)
            assert thumbnail is not None
            with Image.open(io.BytesIO(thumbnail)) as image:
                assert max(image.size) == KINDS[THUMBNAIL]
        await service.render_files(uuid.uuid4(), place.org_id, files)
        assert (service.rendered, service.reused) == (2, 2), "found in the bucket: not again"
    finally:
        service.close()
    names = {
        o["Key"]
        for o in bucket[1].list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/thumbnail/")["Contents"]
    }
    for file in files:
        key = rendition_key(file["checksum"])
        assert f"{PREFIX}/thumbnail/{key[:2]}/{key}.jpg" in names
