"""A ZIP of a whole 300-photo album streams: the platform's memory does not grow with it."""

from __future__ import annotations

import os
import uuid
import zipfile
from pathlib import Path

from tests.e2e.conftest import Running
from tests.support.waiting import eventually

PHOTOS = 300
PHOTO_BYTES = 512 * 1024  # 150 MB in all, incompressible: the ZIP is as large


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_a_zip_of_300_photos_streams_with_bounded_memory(
    running: Running, tmp_path: Path
) -> None:
    http, owner = running.http, await running.account()
    folder_path = running.world.photos / f"zip-{uuid.uuid4().hex[:8]}"
    folder_path.mkdir()
    for n in range(PHOTOS):
        (folder_path / f"IMG_{n:04d}.jpg").write_bytes(os.urandom(PHOTO_BYTES))
    headers = dict(owner.headers)
    org = (await http.post("/api/orgs", json={"name": "Zip"}, headers=headers)).json()
    headers["X-Consistency-Token"] = org["consistency_token"]
    folder = await http.post(
        f"/api/orgs/{org['org_id']}/storage/folders",
        json={"provider": "local", "location": str(folder_path), "name": "Zip"},
        headers=headers,
    )
    assert folder.status_code == 201, folder.text
    client = {"name": "Zed", "email": "zed@example.com"}
    body = {"title": "Zip", "folder_id": folder.json()["folder_id"], "client": client}
    album = await http.post(f"/api/orgs/{org['org_id']}/albums", json=body, headers=headers)
    album_id = album.json()["album_id"]
    headers["X-Consistency-Token"] = album.json()["consistency_token"]
    assert (await http.post(f"/api/albums/{album_id}/sync", headers=headers)).status_code == 202

    async def photo_count() -> int:
        answer = await http.get(f"/api/albums/{album_id}", headers=headers)
        return int(answer.json()["photo_count"]) if answer.status_code == 200 else 0

    await eventually(photo_count, lambda n: n == PHOTOS, timeout=120, what="300 photos synced")
    shared = await http.post(
        f"/api/albums/{album_id}/share", json={"allow_download": True}, headers=headers
    )
    token = shared.json()["share_token"]

    pid = running.process.pid
    before, peak, size = rss_mb(pid), 0.0, 0
    target = tmp_path / "album.zip"
    with target.open("wb") as out:
        async with http.stream("GET", f"/api/share/{token}/download?scope=all") as answer:
            assert answer.status_code == 200, await answer.aread()
            async for chunk in answer.aiter_bytes():
                out.write(chunk)
                size += len(chunk)
                peak = max(peak, rss_mb(pid))
    total_mb = PHOTOS * PHOTO_BYTES / 2**20
    assert size > PHOTOS * PHOTO_BYTES, "every photo is in the ZIP"
    assert peak - before < total_mb / 4, (
        f"the platform grew {peak - before:.0f} MB while streaming a {total_mb:.0f} MB ZIP"
    )
    with zipfile.ZipFile(target) as archive:
        assert len(archive.namelist()) == PHOTOS
        first = archive.read("IMG_0000.jpg")
        assert first == (folder_path / "IMG_0000.jpg").read_bytes()
