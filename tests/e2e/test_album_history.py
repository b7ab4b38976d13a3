"""An album's state as of a past moment, replayed from its events, equals what the API showed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tests.e2e.conftest import Running
from tests.e2e.test_albums import Studio
from tests.support.waiting import eventually


def _shown(photos: list[dict[str, Any]]) -> dict[str, Any]:
    """What matters of each photo, as the album's photo list shows it."""
    return {
        p["photo_id"]: {
            "name": p["name"],
            "picked_by": sorted(p["picked_by"]),
            "ratings": p["ratings"],
            "comment_count": p["comment_count"],
            "proc_status": p["proc_status"],
        }
        for p in photos
    }


async def test_an_albums_state_at_a_past_time_equals_what_the_api_showed_then(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=5)
    album_id = await studio.synced_album(limit=4)
    photos = await studio.photos(album_id)
    first, second, third = (p["photo_id"] for p in photos[:3])
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    http = running.http

    async def as_guest(guest: str, path: str, body: Any = None) -> None:
        answer = await http.post(f"/api/share/{token}{path}", json=body, headers={"X-Guest": guest})
        assert answer.status_code in (200, 201), answer.text
        studio.headers["X-Consistency-Token"] = answer.json()["consistency_token"]

    await as_guest("Anna", f"/photos/{first}/select")
    await as_guest("Ben", f"/photos/{first}/select")
    await as_guest("Anna", f"/photos/{second}/rating", {"rating": 4, "color": "red"})
    await as_guest("Ben", f"/photos/{second}/rating", {"rating": 2})
    await as_guest("Anna", f"/photos/{second}/comments", {"text": "Brighter?"})
    then = _shown(await studio.photos(album_id))
    moment = datetime.now(UTC)
    await asyncio.sleep(0.05)

    await as_guest("Anna", f"/photos/{first}/deselect")
    await as_guest("Ben", f"/photos/{third}/select")
    await as_guest("Ben", f"/photos/{second}/rating", {"rating": 5, "color": "green"})
    await as_guest("Anna", "/submit")
    await studio.post(f"/api/albums/{album_id}/start-editing")
    await studio.post(f"/api/albums/{album_id}/photos/{third}/proc", {"status": "edited"})
    now = _shown(await studio.photos(album_id))
    assert now != then

    audit = f"/api/audit/albums/{album_id}/state"
    past = await studio.get(audit, at=moment.isoformat())
    assert past["state"]["state"] == "shared"
    assert _shown(past["state"]["photos"]) == then, "replayed state = what the API showed then"
    assert past["state"]["selection_count"] == 1

    async def current() -> dict[str, Any]:
        return await studio.get(audit)

    latest = await eventually(current, lambda s: s["state"]["state"] == "editing", timeout=10)
    assert _shown(latest["state"]["photos"]) == now
    assert "share_token_hash" not in latest["state"], "the link's secret is never shown"


async def test_a_guest_reads_its_own_writes_with_the_commands_token(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    photo = (await studio.photos(album_id))[0]["photo_id"]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    shown_link = (await studio.get(f"/api/albums/{album_id}"))["share"]
    assert shown_link["token"] == token, "the photographer can copy the link again later"
    http, guest = running.http, {"X-Guest": "Anna"}
    for n in range(5):  # each read straight after its write: without the wait some would lag
        picked = await http.post(
            f"/api/share/{token}/photos/{photo}/{'select' if n % 2 == 0 else 'deselect'}",
            headers=guest,
        )
        said = await http.post(
            f"/api/share/{token}/photos/{photo}/comments", json={"text": f"note {n}"}, headers=guest
        )
        seen = {"X-Consistency-Token": said.json()["consistency_token"], **guest}
        comments = await http.get(f"/api/share/{token}/photos/{photo}/comments", headers=seen)
        assert f"note {n}" in [c["text"] for c in comments.json()["items"]]
        view = (await http.get(f"/api/share/{token}", headers=seen)).json()
        shown = next(p for p in view["photos"]["items"] if p["photo_id"] == photo)
        assert shown["picked_by"] == (["Anna"] if n % 2 == 0 else []), picked.json()
    other = {"X-Consistency-Token": studio.headers["X-Consistency-Token"]}
    assert (await http.get(f"/api/share/{token}", headers=other)).status_code == 200


async def test_photos_filter_in_the_database_and_comments_name_their_photo(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=4)
    album_id = await studio.synced_album()
    photos = await studio.photos(album_id)
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    http, guest = running.http, {"X-Guest": "Anna"}
    first, second, third = (p["photo_id"] for p in photos[:3])
    await http.post(f"/api/share/{token}/photos/{first}/select", headers=guest)
    await http.post(f"/api/share/{token}/photos/{second}/rating", json={"rating": 3}, headers=guest)
    said = await http.post(
        f"/api/share/{token}/photos/{third}/comments", json={"text": "Crop?"}, headers=guest
    )
    studio.headers["X-Consistency-Token"] = said.json()["consistency_token"]
    base = f"/api/albums/{album_id}/photos"
    for show, expected in (("picked", first), ("rated", second), ("commented", third)):
        found = [p["photo_id"] for p in (await studio.get(base, show=show))["items"]]
        assert found == [expected], show
        shared = (await http.get(f"/api/share/{token}", params={"show": show})).json()
        assert [p["photo_id"] for p in shared["photos"]["items"]] == [expected], show
    assert len((await studio.get(base, show="all"))["items"]) == 4
    refused = await http.get(base, params={"show": "everything"}, headers=studio.headers)
    assert refused.status_code == 422
    comments = (await studio.get(f"/api/albums/{album_id}/comments"))["items"]
    assert [c["photo_name"] for c in comments] == [photos[2]["name"]]
