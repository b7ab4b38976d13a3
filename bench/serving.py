"""Serving: thumbnail GETs at 32 concurrent clients against a static file of the same size.

The whole platform runs as ``make run`` starts it (``python -m infra run``) on a synced,
shared album of demo photos with their renditions made. Two routes are measured: a share
link's thumbnail (the client gallery: the link checked on the album, the photo looked up in
the read tables) and a member's (the bearer token verified, the caller's studios read). The
baseline is the same thumbnail's bytes served by the same server stack (uvicorn on uvloop,
a Starlette app) from ``StaticFiles``, nothing else. The load comes from 32 keep-alive
connections of a minimal HTTP/1.1 client in this process (so the client's own cost stays
small); each latency is one request's round trip.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx

from bench.processes import stop
from bench.report import Figure, say
from infra.demo_photos import generate
from tests.support.accounts import sign_up
from tests.support.waiting import eventually
from tests.support.world import REPO, World, free_port

NAME = "serving"
CLIENTS = 32


async def _one_connection(
    port: int, path: str, headers: dict[str, str], count: int, samples: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            if status != b"200":
                raise RuntimeError(f"{path}: {head[:200]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            samples.append(time.perf_counter() - started)
    finally:
        writer.close()


async def p99_ms(
    port: int, path: str, headers: dict[str, str], requests: int
) -> tuple[float, float]:
    """The p99 latency in ms, and the requests per second the server answered meanwhile."""
    warm: list[float] = []
    await asyncio.gather(*(_one_connection(port, path, headers, 20, warm) for _ in range(CLIENTS)))
    samples: list[float] = []
    each = max(1, requests // CLIENTS)
    started = time.perf_counter()
    await asyncio.gather(
        *(_one_connection(port, path, headers, each, samples) for _ in range(CLIENTS))
    )
    rate = len(samples) / (time.perf_counter() - started)
    return quantiles(samples, n=100)[98] * 1000, rate


async def _studio(http: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """A synced, shared album of demo photos, rendered: the paths and the token to use."""
    owner = await sign_up(http)
    headers = owner.headers
    org = (await http.post("/api/orgs", json={"name": "Bench"}, headers=headers)).json()
    folder_path = world.photos / "serving"
    generate(folder_path, count=6)
    headers = {**headers, "X-Consistency-Token": org["consistency_token"]}
    folder = (
        await http.post(
            f"/api/orgs/{org['org_id']}/storage/folders",
            json={"provider": "local", "location": str(folder_path), "name": "Bench"},
            headers=headers,
        )
    ).json()
    folder_id = folder["folder_id"]
    headers["X-Consistency-Token"] = folder["consistency_token"]
    client = {"name": "Bench Client", "email": "client@example.com"}
    album = (
        await http.post(
            f"/api/orgs/{org['org_id']}/albums",
            json={"title": "Bench", "folder_id": folder_id, "client": client},
            headers=headers,
        )
    ).json()
    album_id = album["album_id"]
    headers["X-Consistency-Token"] = album["consistency_token"]
    await http.post(f"/api/albums/{album_id}/sync", headers=headers)

    async def ready() -> bool:
        folder = (await http.get(f"/api/storage/folders/{folder_id}", headers=headers)).json()
        album = (await http.get(f"/api/albums/{album_id}", headers=headers)).json()
        counts = folder.get("renditions") or {}
        return bool(album.get("status") == "ready" and counts.get("total") and counts["ready"] == 6)

    await eventually(ready, bool, timeout=90, what="album synced and rendered")
    token = (
        await http.post(f"/api/albums/{album_id}/share", json={}, headers=owner.headers)
    ).json()["share_token"]
    photos = (await http.get(f"/api/albums/{album_id}/photos", headers=owner.headers)).json()[
        "items"
    ]
    file_id = photos[0]["file_id"]
    return {
        "share": f"/api/share/{token}/photos/{photos[0]['photo_id']}/thumbnail",
        "member": f"/api/storage/files/{file_id}/thumbnail?folder_id={folder_id}",
        "bearer": owner.access_token,
    }


async def run(world: World, quick: bool) -> list[Figure]:
    requests = 3_200 if quick else 16_000
    store = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    platform = world.spawn(
        "run",
        log_name="bench-serving",
        local_roots=str(world.photos),
        renditions_dir=str(store),
        user_rate_limit="100000000",
        auth_rate_limit="100000",
    )
    static: subprocess.Popen[bytes] | None = None
    port = world.settings.http_port
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            async def health() -> str:
                try:
                    return str((await http.get("/api/health")).json()["status"])
                except httpx.TransportError:
                    return "down"

            await eventually(health, lambda s: s == "ok", timeout=120, what="platform healthy")
            target = await _studio(http, world)
            thumbnail = (await http.get(target["share"])).content
        static_dir = Path(tempfile.mkdtemp(prefix="bench-static-"))
        (static_dir / "thumbnail.jpg").write_bytes(thumbnail)
        static_port = free_port()
        static = subprocess.Popen(
            [sys.executable, "-m", "bench.static_server", str(static_dir), str(static_port)],
            cwd=REPO,
        )
        await asyncio.sleep(2)
        baseline, baseline_rate = await p99_ms(static_port, "/static/thumbnail.jpg", {}, requests)
        share, share_rate = await p99_ms(port, target["share"], {}, requests)
        bearer = {"Authorization": f"Bearer {target['bearer']}"}
        member, member_rate = await p99_ms(port, target["member"], bearer, requests)
    finally:
        if static is not None:
            await asyncio.to_thread(stop, static)
        await asyncio.to_thread(stop, platform)
    say(
        f"  {len(thumbnail):,} byte thumbnail, {requests:,} GETs at {CLIENTS} clients: p99 "
        f"static {baseline:.2f} ms ({baseline_rate:,.0f}/s), share link {share:.2f} ms "
        f"({share_rate:,.0f}/s), member {member:.2f} ms ({member_rate:,.0f}/s)"
    )
    return [
        Figure(
            NAME,
            f"share-link thumbnail GET p99 at {CLIENTS} clients",
            share,
            "ms",
            "the same bytes from StaticFiles, same server stack",
            baseline,
            goal="< 10 ms",
            met=share < 10,
            detail=f"{len(thumbnail):,} bytes; {share_rate:,.0f} GETs/s, static "
            f"{baseline_rate:,.0f}/s",
        ),
        Figure(
            NAME,
            f"member thumbnail GET p99 at {CLIENTS} clients",
            member,
            "ms",
            "the same bytes from StaticFiles, same server stack",
            baseline,
            goal="< 10 ms",
            met=member < 10,
            detail=f"bearer token verified, studios read, per request; {member_rate:,.0f} GETs/s",
        ),
    ]
