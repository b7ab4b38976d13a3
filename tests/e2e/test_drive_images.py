"""The whole platform on a Google Drive folder (our Drive v3 server): photos rendered, served,
downloaded, with every byte read through the Drive client library."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bench.rendition_files import make_jpeg
from tests.e2e.conftest import Running, running_platform
from tests.e2e.test_images import Shoot, jpeg_size
from tests.support.drive_server import DriveServer, drive_server
from tests.support.google import google_certs_server
from tests.support.waiting import eventually
from tests.support.world import new_world


@pytest.fixture(scope="module")
def drive() -> Iterator[DriveServer]:
    with drive_server() as server:
        yield server


@pytest.fixture(scope="module")
async def platform(stack: None, drive: DriveServer) -> AsyncIterator[Running]:
    async with new_world() as world:
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="drive-images",
                local_roots=str(world.photos),
                drive_api_url=drive.api_endpoint,
                google_token_uri=drive.token_uri,
            )
            async with running_platform(world, process, google) as running:
                yield running


async def test_a_drive_folder_s_photos_are_rendered_served_and_downloaded(
    platform: Running, drive: DriveServer, tmp_path: Path
) -> None:
    contents: dict[str, bytes] = {}
    for seed, (name, size) in enumerate(
        {"wide.jpg": (1600, 1000), "tall.jpg": (1000, 1600)}.items()
    ):
        make_jpeg(tmp_path / name, size, seed)
        contents[name] = (tmp_path / name).read_bytes()
    top = drive.store.add_folder("Wedding")
    ids = {name: drive.store.add_file(name, top, content=data) for name, data in contents.items()}
    drive.store.add_file("broken.jpg", top, content=b"not a jpeg at all" * 100)

    http, owner = platform.http, await platform.account()
    org = (await http.post("/api/orgs", json={"name": "Drive"}, headers=owner.headers)).json()
    headers = {**owner.headers, "X-Consistency-Token": org["consistency_token"]}
    settings = await http.put(
        f"/api/orgs/{org['org_id']}/providers/google_drive",
        json=drive.service_account_settings(),
        headers=headers,
    )
    assert settings.status_code in (200, 201), settings.text
    folder = await http.post(
        f"/api/orgs/{org['org_id']}/storage/folders",
        json={"provider": "google_drive", "location": top, "name": "Drive"},
        headers=headers,
    )
    assert folder.status_code == 201, folder.text
    shoot = Shoot(platform, owner, org["org_id"], folder.json()["folder_id"], tmp_path)
    shoot.headers["X-Consistency-Token"] = folder.json()["consistency_token"]
    await shoot.post(f"/api/storage/folders/{shoot.folder_id}/sync", {}, 202)

    async def renditions() -> dict[str, int]:
        return dict((await shoot.get(f"/api/storage/folders/{shoot.folder_id}"))["renditions"])

    made = await eventually(
        renditions,
        lambda r: r["total"] == 3 and r["ready"] + r["failed"] == 3,
        timeout=60,
        what="renditions of the Drive folder",
    )
    assert made == {"ready": 2, "total": 3, "failed": 1}

    base, params = "/api/storage/files", {"folder_id": shoot.folder_id}
    wide = await http.get(f"{base}/{ids['wide.jpg']}/thumbnail", params=params, headers=headers)
    assert wide.status_code == 200 and jpeg_size(wide.content) == (400, 250)
    tall = await http.get(f"{base}/{ids['tall.jpg']}/preview", params=params, headers=headers)
    assert tall.status_code == 200 and jpeg_size(tall.content) == (1000, 1600)

    part = await http.get(
        f"{base}/{ids['wide.jpg']}/original",
        params=params,
        headers={**headers, "Range": "bytes=100-4099"},
    )
    assert part.status_code == 206, part.text
    assert part.content == contents["wide.jpg"][100:4100]
    assert part.headers["content-range"] == f"bytes 100-4099/{len(contents['wide.jpg'])}"

    album_id, token = await shoot.album(allow_download=True)
    photos = await shoot.photos(album_id)
    shared = await http.get(f"/api/share/{token}/photos/{photos['tall.jpg']}/thumbnail")
    assert shared.status_code == 200 and jpeg_size(shared.content) == (250, 400)
    async with http.stream("GET", f"/api/share/{token}/download", params={"scope": "all"}) as z:
        assert z.status_code == 200
        body = b"".join([chunk async for chunk in z.aiter_bytes()])
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name, data in contents.items():
            assert archive.read(name) == data, name
