"""The client gallery in Chromium: a 15,000-photo album against a 100-photo one, same run.

The whole platform runs as ``make run`` starts it (it serves the built web app). Two albums are
synced and rendered from local folders of small distinct JPEGs (generated once into
``$PHOTOFLOW_CACHE_DIR/bench-gallery``), shared, and opened by ``web/bench/gallery.mjs`` in
Debian's Chromium on a phone-sized viewport: the time from navigation to the first thumbnail
painted, then a scroll from top to bottom with every frame's duration from
``requestAnimationFrame``. The scroll moves a quarter of the screen a frame (about 14,000 CSS px
a second, a brisk fling on a phone); the same album is also scrolled at half a screen a frame,
shown beside it. The 100-photo album is the baseline: the ratio says what the size of the
gallery costs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx
from PIL import Image

from bench.processes import stop
from bench.report import Figure, say
from tests.support.accounts import sign_up
from tests.support.waiting import eventually
from tests.support.world import REPO, World

NAME = "gallery"
BIG, SMALL = 15_000, 100
CACHE = Path(os.environ.get("PHOTOFLOW_CACHE_DIR", Path.home() / ".cache" / "photoflow"))


def _photos(folder: Path, count: int) -> Path:
    """``count`` distinct 300x200 JPEGs (a colour each), written once."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        path = folder / f"IMG_{n:05d}.jpg"
        if not path.exists():
            colour = ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)
            Image.new("RGB", (300, 200), colour).save(path, "JPEG", quality=80)
    return folder


async def _shared_album(
    http: httpx.AsyncClient, headers: dict[str, str], org_id: str, folder: Path, count: int
) -> str:
    """A synced, rendered, shared album of ``folder``: its share token."""
    created = await http.post(
        f"/api/orgs/{org_id}/storage/folders",
        json={"provider": "local", "location": str(folder), "name": folder.name},
        headers=headers,
    )
    folder_id = created.json()["folder_id"]
    client = {"name": "Bench Client", "email": "client@example.com"}
    body = {"title": folder.name, "folder_id": folder_id, "client": client}
    album = (await http.post(f"/api/orgs/{org_id}/albums", json=body, headers=headers)).json()
    album_id = album["album_id"]
    await http.post(
        f"/api/albums/{album_id}/sync",
        headers={**headers, "X-Consistency-Token": album["consistency_token"]},
    )

    async def progress() -> tuple[str, int, int]:
        got = (await http.get(f"/api/albums/{album_id}", headers=headers)).json()
        made = (await http.get(f"/api/storage/folders/{folder_id}", headers=headers)).json()
        done = made.get("renditions") or {}
        return str(got.get("status")), int(done.get("ready", 0)), int(got.get("photo_count", 0))

    last = -1

    def ready(state: tuple[str, int, int]) -> bool:
        nonlocal last
        status, rendered, photos = state
        if rendered // 1000 != last // 1000:
            say(f"  {folder.name}: {status}, {photos:,} photos, {rendered:,} rendered")
        last = rendered
        return status == "ready" and rendered >= count

    await eventually(progress, ready, timeout=1800, what=f"{folder.name} synced and rendered")
    shared = await http.post(f"/api/albums/{album_id}/share", json={}, headers=headers)
    return str(shared.json()["share_token"])


async def _in_chromium(base: str, token: str, screens_per_frame: float = 0.25) -> dict[str, Any]:
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", "bench/gallery.mjs", base, token, str(screens_per_frame)],
        cwd=REPO / "web",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gallery.mjs failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _p95(frames: list[float]) -> float:
    return quantiles(frames[1:], n=100)[94] if len(frames) > 2 else float("nan")


async def run(world: World, quick: bool) -> list[Figure]:
    big = BIG if not quick else 3_000
    folders = CACHE / "bench-gallery"
    say(f"  photos: {big:,} and {SMALL} small JPEGs in {folders}")
    big_folder = await asyncio.to_thread(_photos, folders / f"album-{big}", big)
    small_folder = await asyncio.to_thread(_photos, folders / f"album-{SMALL}", SMALL)
    platform = world.spawn(
        "run",
        log_name="bench-gallery",
        local_roots=str(folders),
        user_rate_limit="100000000",
        image_rate_limit="100000000",
        auth_rate_limit="100000",
    )
    base = f"http://127.0.0.1:{world.settings.http_port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:

            async def health() -> str:
                try:
                    return str((await http.get("/api/health")).json()["status"])
                except httpx.TransportError:
                    return "down"

            await eventually(health, lambda s: s == "ok", timeout=120, what="platform healthy")
            owner = await sign_up(http)
            org = await http.post("/api/orgs", json={"name": "Bench"}, headers=owner.headers)
            headers = {**owner.headers, "X-Consistency-Token": org.json()["consistency_token"]}
            org_id = org.json()["org_id"]
            small = await _shared_album(http, headers, org_id, small_folder, SMALL)
            large = await _shared_album(http, headers, org_id, big_folder, big)
        baseline = await _in_chromium(base, small)
        measured = await _in_chromium(base, large)
        fling = await _in_chromium(base, large, 0.5)
    finally:
        await asyncio.to_thread(stop, platform)
    first, first_base = measured["firstThumbnailMs"], baseline["firstThumbnailMs"]
    p95, p95_base = _p95(measured["frames"]), _p95(baseline["frames"])
    say(
        f"  {big:,} photos: first thumbnail {first:.0f} ms, scroll of {measured['height']:,} px "
        f"in {len(measured['frames'])} frames, p95 {p95:.1f} ms; {SMALL} photos: "
        f"{first_base:.0f} ms, p95 {p95_base:.1f} ms"
    )
    return [
        Figure(
            NAME,
            f"first thumbnail visible after navigation, {big:,}-photo gallery",
            first,
            "ms",
            f"the same for a {SMALL}-photo gallery",
            first_base,
            goal="< 1500 ms",
            met=first < 1500,
            detail="Chromium (Debian), 412x915 viewport, guest name known",
        ),
        Figure(
            NAME,
            f"frame time p95 scrolling top to bottom, {big:,}-photo gallery",
            p95,
            "ms",
            f"the same for a {SMALL}-photo gallery",
            p95_base,
            goal="< 50 ms",
            met=p95 < 50,
            detail=f"a quarter screen a frame: {len(measured['frames'])} frames over "
            f"{measured['height']:,} px, {measured['thumbsInDom']} thumbnails in the page at the "
            f"end (virtualised); half a screen a frame: p95 {_p95(fling['frames']):.1f} ms",
        ),
    ]
