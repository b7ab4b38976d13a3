"""A studio's watermark on the client's previews, and never on the members' (pixels compared)."""

from __future__ import annotations

import io

import httpx
from PIL import Image, ImageChops, ImageStat

from tests.e2e.conftest import Running
from tests.e2e.test_images import Shoot
from tests.support.waiting import eventually


def _logo() -> bytes:
    logo = Image.new("RGBA", (120, 60), (255, 0, 0, 255))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


def _pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        return image.convert("L")


def _difference(a: Image.Image, b: Image.Image, box: tuple[float, float, float, float]) -> float:
    """Mean absolute difference of grey levels inside ``box`` (fractions of the image)."""
    w, h = a.size
    crop = (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))
    return float(ImageStat.Stat(ImageChops.difference(a.crop(crop), b.crop(crop))).mean[0])


async def test_client_previews_carry_the_watermark_and_members_previews_never(
    running: Running,
) -> None:
    shoot = await Shoot.synced(running)
    await shoot.rendered()
    album_id, _ = await shoot.album(allow_download=False)
    http = running.http
    member_preview = f"/api/storage/files/a_plain.jpg/preview?folder_id={shoot.folder_id}"
    clean = (await http.get(member_preview, headers=shoot.headers)).content

    uploaded = await http.post(
        f"/api/orgs/{shoot.org_id}/watermark/images",
        content=_logo(),
        headers={**shoot.headers, "Content-Type": "image/png"},
    )
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["image_id"]
    watermark = {"text": "© Studio Lumière", "image_id": image_id, "position": "center"}
    put = await http.put(
        f"/api/orgs/{shoot.org_id}/watermark",
        json={**watermark, "opacity": 1},
        headers=shoot.headers,
    )
    assert put.status_code == 200, put.text
    shoot.headers["X-Consistency-Token"] = put.json()["consistency_token"]
    shared = await shoot.post(f"/api/albums/{album_id}/share", {"watermark": True})
    token = shared["share_token"]
    photo_id = (await shoot.photos(album_id))["a_plain.jpg"]
    client_preview = f"/api/share/{token}/photos/{photo_id}/preview"

    async def client_sees_a_mark() -> bool:
        return (await http.get(client_preview)).content != clean

    await eventually(client_sees_a_mark, bool, timeout=30, what="a watermarked preview")
    marked = (await http.get(client_preview)).content
    ours, theirs = _pixels(clean), _pixels(marked)
    assert ours.size == theirs.size, "the watermarked preview keeps the preview's size"
    assert _difference(ours, theirs, (0.4, 0.4, 0.6, 0.6)) > 20, "the mark is in the middle"
    assert _difference(ours, theirs, (0, 0, 0.2, 0.2)) < 3, "the rest of the photo is untouched"

    again = await http.get(member_preview, headers=shoot.headers)
    assert again.content == clean, "members always see the clean preview"
    thumbnail = await http.get(f"/api/share/{token}/photos/{photo_id}/thumbnail")
    member_thumbnail = await http.get(
        f"/api/storage/files/a_plain.jpg/thumbnail?folder_id={shoot.folder_id}",
        headers=shoot.headers,
    )
    assert thumbnail.content == member_thumbnail.content, "thumbnails stay clean"

    answer = await http.get(client_preview)
    etag = answer.headers["etag"]
    assert etag != again.headers["etag"], "the watermarked preview has its own ETag"
    assert (await http.get(client_preview, headers={"If-None-Match": etag})).status_code == 304
    immutable = await http.get(client_preview, params={"v": etag.strip('"')})
    assert "immutable" in immutable.headers["cache-control"]
    by_checksum = await http.get(client_preview, params={"v": "some-old-checksum"})
    assert "no-cache" in by_checksum.headers["cache-control"]

    view = (await http.get(f"/api/share/{token}")).json()
    listed = next(p for p in view["photos"]["items"] if p["photo_id"] == photo_id)
    assert listed["images"]["state"] == "ready"
    by_link = await http.get(listed["images"]["preview"]["url"])
    assert by_link.content == marked, "the listed preview URL is the watermarked one"
    assert "immutable" in by_link.headers["cache-control"]
    assert listed["images"]["preview"]["width"] == ours.size[0]
    assert view["album"]["allowed_commands"] == ["comment", "rate", "select", "submit"]

    members = await shoot.get(f"/api/albums/{album_id}/photos")
    own = next(p for p in members["items"] if p["photo_id"] == photo_id)
    by_member = await http.get(own["images"]["preview"]["url"], headers=shoot.headers)
    assert by_member.content == clean and "immutable" in by_member.headers["cache-control"]
    assert "share" in (await shoot.get(f"/api/albums/{album_id}"))["allowed_commands"]

    studio = await shoot.get(f"/api/orgs/{shoot.org_id}")
    assert studio["watermark"]["text"] == "© Studio Lumière"
    png = await http.get(
        f"/api/orgs/{shoot.org_id}/watermark/images/{image_id}", headers=shoot.headers
    )
    assert png.content == _logo()

    unmarked = await shoot.post(f"/api/albums/{album_id}/share", {"watermark": False})
    plain = await http.get(f"/api/share/{unmarked['share_token']}/photos/{photo_id}/preview")
    assert plain.content == clean, "a link shared without the watermark shows clean previews"


async def test_a_watermark_is_checked_field_by_field(running: Running) -> None:
    shoot = await Shoot.synced(running)
    http, path = running.http, f"/api/orgs/{shoot.org_id}/watermark"

    async def put(body: object) -> httpx.Response:
        return await http.put(path, json=body, headers=shoot.headers)

    for body, field in (
        ({}, "text"),
        ({"text": "ok", "opacity": 2}, "opacity"),
        ({"text": "ok", "position": "nowhere"}, "position"),
        ({"text": "a\u0000b"}, "text"),
        ({"image_id": "f" * 64}, "image_id"),
    ):
        answer = await put(body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in answer.json()["errors"]}, (body, answer.text)

    not_png = await http.post(
        f"{path}/images",
        content=b"GIF89a....",
        headers={**shoot.headers, "Content-Type": "image/png"},
    )
    assert not_png.status_code == 422 and not_png.json()["errors"][0]["field"] == "image"
    wrong_type = await http.post(
        f"{path}/images", content=_logo(), headers={**shoot.headers, "Content-Type": "image/gif"}
    )
    assert wrong_type.status_code == 415
    assert (await http.delete(path, headers=shoot.headers)).status_code == 404

    stranger = await running.account()
    assert (await http.put(path, json={"text": "x"}, headers=stranger.headers)).status_code == 404
