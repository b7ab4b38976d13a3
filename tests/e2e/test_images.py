"""Photos people can look at, through the running platform: renditions, serving, downloads."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from bench.rendition_files import make_jpeg
from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.waiting import eventually

SIZE = (1600, 1000)
ORIENTATIONS = {"a_plain.jpg": 1, "b_turned_right.jpg": 6, "c_upside_down.jpg": 3}


class Shoot:
    """A studio with a local folder of generated photos (one not an image at all), synced."""

    def __init__(
        self, running: Running, owner: Account, org_id: str, folder_id: str, path: Path
    ) -> None:
        self.running, self.owner, self.org_id = running, owner, org_id
        self.folder_id, self.path = folder_id, path
        self.headers = dict(owner.headers)

    @classmethod
    async def synced(cls, running: Running) -> Shoot:
        http, owner = running.http, await running.account()
        org = (await http.post("/api/orgs", json={"name": "Lens"}, headers=owner.headers)).json()
        path = running.world.photos / f"images-{uuid.uuid4().hex[:8]}"
        for seed, (name, orientation) in enumerate(ORIENTATIONS.items()):
            make_jpeg(path / name, SIZE, seed, orientation)
        (path / "d_broken.jpg").write_bytes(b"not a jpeg at all" * 100)
        headers = {**owner.headers, "X-Consistency-Token": org["consistency_token"]}
        folder = await http.post(
            f"/api/orgs/{org['org_id']}/storage/folders",
            json={"provider": "local", "location": str(path), "name": "Images"},
            headers=headers,
        )
        assert folder.status_code == 201, folder.text
        shoot = cls(running, owner, org["org_id"], folder.json()["folder_id"], path)
        shoot.headers["X-Consistency-Token"] = folder.json()["consistency_token"]
        await shoot.post(f"/api/storage/folders/{shoot.folder_id}/sync", {}, 202)
        return shoot

    async def post(self, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        answer = await self.running.http.post(path, json=body, headers=self.headers)
        assert answer.status_code == status, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        if result.get("consistency_token"):
            self.headers["X-Consistency-Token"] = result["consistency_token"]
        return result

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        answer = await self.running.http.get(path, params=params, headers=self.headers)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    async def rendered(self) -> dict[str, int]:
        async def renditions() -> dict[str, int]:
            folder = await self.get(f"/api/storage/folders/{self.folder_id}")
            return dict(folder["renditions"])

        return await eventually(
            renditions,
            lambda r: r["total"] == 4 and r["ready"] + r["failed"] == 4,
            timeout=60,
            what="renditions made",
        )

    async def album(self, allow_download: bool) -> tuple[str, str]:
        """A synced album of the folder and its share link."""
        client = {"name": "Cleo", "email": "cleo@example.com"}
        body = {"title": "Proofs", "folder_id": self.folder_id, "client": client}
        album_id = str((await self.post(f"/api/orgs/{self.org_id}/albums", body, 201))["album_id"])
        await self.post(f"/api/albums/{album_id}/sync", status=202)

        async def status() -> str:
            return str((await self.get(f"/api/albums/{album_id}"))["status"])

        await eventually(status, lambda s: s == "ready", timeout=60, what="album synced")
        shared = await self.post(
            f"/api/albums/{album_id}/share", {"allow_download": allow_download}
        )
        return album_id, str(shared["share_token"])

    async def photos(self, album_id: str) -> dict[str, str]:
        """Photo id by file name."""
        items = (await self.get(f"/api/albums/{album_id}/photos", limit=500))["items"]
        return {p["name"]: p["photo_id"] for p in items}


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        return image.size


async def test_renditions_are_made_for_a_synced_folder_and_served_to_members(
    running: Running,
) -> None:
    shoot = await Shoot.synced(running)
    assert await shoot.rendered() == {"ready": 3, "total": 4, "failed": 1}
    http, base = running.http, "/api/storage/files"
    params = {"folder_id": shoot.folder_id}

    turned = await http.get(
        f"{base}/b_turned_right.jpg/thumbnail", params=params, headers=shoot.headers
    )
    assert turned.status_code == 200 and turned.headers["content-type"] == "image/jpeg"
    assert jpeg_size(turned.content) == (250, 400), "orientation 6 shows the picture upright"
    plain = await http.get(f"{base}/a_plain.jpg/thumbnail", params=params, headers=shoot.headers)
    assert jpeg_size(plain.content) == (400, 250)
    preview = await http.get(f"{base}/a_plain.jpg/preview", params=params, headers=shoot.headers)
    assert jpeg_size(preview.content) == SIZE, "a preview never upscales"

    etag = plain.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "no-cache" in plain.headers["cache-control"]
    again = await http.get(
        f"{base}/a_plain.jpg/thumbnail",
        params=params,
        headers={**shoot.headers, "If-None-Match": etag},
    )
    assert again.status_code == 304 and again.content == b""
    checksum = (await shoot.get(f"/api/storage/folders/{shoot.folder_id}/photos"))["items"][0][
        "checksum"
    ]
    pinned = await http.get(
        f"{base}/a_plain.jpg/thumbnail", params={**params, "v": checksum}, headers=shoot.headers
    )
    assert pinned.headers["cache-control"] == "private, max-age=31536000, immutable"

    broken = await http.get(f"{base}/d_broken.jpg/thumbnail", params=params, headers=shoot.headers)
    assert broken.status_code == 404 and broken.json()["type"].endswith("/not-rendered")

    original = (shoot.path / "a_plain.jpg").read_bytes()
    part = await http.get(
        f"{base}/a_plain.jpg/original",
        params=params,
        headers={**shoot.headers, "Range": "bytes=100-1099"},
    )
    assert part.status_code == 206 and part.content == original[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(original)}"
    assert part.headers["accept-ranges"] == "bytes"
    whole = await http.get(f"{base}/a_plain.jpg/original", params=params, headers=shoot.headers)
    assert whole.status_code == 200 and whole.content == original

    stranger = await running.account()
    hidden = await http.get(
        f"{base}/a_plain.jpg/thumbnail", params=params, headers=stranger.headers
    )
    assert hidden.status_code == 404, "another studio's file does not exist for a stranger"


async def test_a_share_link_sees_only_its_album_and_downloads_only_when_allowed(
    running: Running,
) -> None:
    shoot = await Shoot.synced(running)
    await shoot.rendered()
    closed_album, closed = await shoot.album(allow_download=False)
    open_album, opened = await shoot.album(allow_download=True)
    closed_photos, open_photos = await shoot.photos(closed_album), await shoot.photos(open_album)
    http = running.http

    own = await http.get(f"/api/share/{closed}/photos/{closed_photos['a_plain.jpg']}/thumbnail")
    assert own.status_code == 200 and jpeg_size(own.content) == (400, 250)
    assert own.headers["cache-control"] == "public, no-cache"
    other = await http.get(f"/api/share/{closed}/photos/{open_photos['a_plain.jpg']}/thumbnail")
    assert other.status_code == 404, "a link reaches only its own album's photos"
    refused = await http.get(f"/api/share/{closed}/photos/{closed_photos['a_plain.jpg']}/original")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/downloads-off")
    no_zip = await http.get(f"/api/share/{closed}/download", params={"scope": "all"})
    assert no_zip.status_code == 403 and no_zip.json()["type"].endswith("/downloads-off")

    photo = open_photos["b_turned_right.jpg"]
    original = await http.get(f"/api/share/{opened}/photos/{photo}/original")
    assert original.status_code == 200
    assert original.content == (shoot.path / "b_turned_right.jpg").read_bytes()

    async with http.stream("GET", f"/api/share/{opened}/download", params={"scope": "all"}) as z:
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        assert "content-length" not in z.headers, "the ZIP streams"
        body = b"".join([chunk async for chunk in z.aiter_bytes()])
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(open_photos)
        for name in names:
            assert archive.read(name) == (shoot.path / name).read_bytes(), name

    for name in ("a_plain.jpg", "c_upside_down.jpg"):
        picked = await http.post(f"/api/share/{opened}/photos/{open_photos[name]}/select")
        assert picked.status_code == 200

    async def selection() -> list[str]:
        answer = await http.get(f"/api/share/{opened}/download", params={"scope": "selection"})
        if answer.status_code != 200:
            return []
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            return sorted(archive.namelist())

    await eventually(
        selection,
        lambda names: names == ["a_plain.jpg", "c_upside_down.jpg"],
        timeout=20,
        what="the selection's ZIP",
    )
