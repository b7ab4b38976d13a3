"""The whole platform with its renditions in an S3 bucket (moto's server), not in ``var/``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from commands.rendition_store import rendition_key
from tests.e2e.conftest import Running, running_platform
from tests.e2e.test_images import Shoot, jpeg_size
from tests.support.google import google_certs_server
from tests.support.moto import moto_bucket
from tests.support.world import new_world

BUCKET = "platform-renditions"
PREFIX = "studio-cache/renditions"


@pytest.fixture(scope="module")
def bucket() -> Iterator[tuple[dict[str, str], Any]]:
    with moto_bucket(BUCKET) as (fields, s3):
        yield fields, s3


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the directory store would write: it must stay empty."""
    return tmp_path_factory.mktemp("unused-renditions")


@pytest.fixture(scope="module")
async def platform(
    stack: None, bucket: tuple[dict[str, str], Any], directory: Path
) -> AsyncIterator[Running]:
    fields = bucket[0]
    async with new_world() as world:
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="rendition-bucket",
                local_roots=str(world.photos),
                renditions_dir=str(directory),
                renditions_url=f"s3://{BUCKET}/{PREFIX}",
                renditions_s3_endpoint_url=fields["endpoint_url"],
                renditions_s3_region=fields["region"],
                renditions_s3_access_key_id=fields["access_key_id"],
                renditions_s3_secret_access_key=fields["secret_access_key"],
            )
            async with running_platform(world, process, google) as running:
                yield running


async def test_a_share_thumbnail_is_served_from_the_bucket(
    platform: Running, bucket: tuple[dict[str, str], Any], directory: Path
) -> None:
    shoot = await Shoot.synced(platform)
    assert await shoot.rendered() == {"ready": 3, "total": 4, "failed": 1}
    album_id, token = await shoot.album(allow_download=False)
    photo_id = (await shoot.photos(album_id))["a_plain.jpg"]

    thumbnail = await platform.http.get(f"/api/share/{token}/photos/{photo_id}/thumbnail")
    assert thumbnail.status_code == 200, thumbnail.text
    assert jpeg_size(thumbnail.content) == (400, 250)
    etag = thumbnail.headers["etag"]
    again = await platform.http.get(
        f"/api/share/{token}/photos/{photo_id}/thumbnail", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304

    files = (await shoot.get(f"/api/storage/folders/{shoot.folder_id}/photos"))["items"]
    checksum = next(f["checksum"] for f in files if f["name"] == "a_plain.jpg")
    key = rendition_key(checksum)
    assert etag == f'"{key[:32]}-thumbnail"'
    stored = bucket[1].get_object(Bucket=BUCKET, Key=f"{PREFIX}/thumbnail/{key[:2]}/{key}.jpg")
    assert stored["Body"].read() == thumbnail.content
    assert not any(p.is_file() for p in directory.rglob("*")), "nothing went to the directory"

    broken = await platform.http.get(
        "/api/storage/files/d_broken.jpg/preview",
        params={"folder_id": shoot.folder_id},
        headers=shoot.headers,
    )
    assert broken.status_code == 404 and broken.json()["type"].endswith("/not-rendered")
