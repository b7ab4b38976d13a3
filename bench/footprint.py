"""``python -m bench.footprint [PHOTOS]``: what one studio's album leaves behind.

A whole platform (``python -m infra run``) in a fresh world; one photographer signs up, binds a
local folder of PHOTOS generated JPEGs (200 by default), syncs it into an album, shares it; the
client picks half and comments on ten, submits; the studio edits and delivers. Then it counts
the events each event store holds and their stored size, the read tables' size, and every
message on Kafka with its bytes (key, value and headers): the sizes ``docs/scaling.md`` uses.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from broker.topics import all_topics
from infra.demo_photos import generate
from tests.e2e.conftest import whole_platform
from tests.support.waiting import eventually

STORES = (
    "organization.organizations_events",
    "identity.identity_events",
    "provider.providers_events",
    "sender.sender_events",
    "storage.storage_events",
    "photoflow.albums_events",
)


async def call(http: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await http.post(path, json=body, headers=headers)
    assert answer.status_code in (200, 201, 202), f"{path}: {answer.status_code} {answer.text}"
    written = answer.json()
    if isinstance(written, dict) and "consistency_token" in written:
        headers["X-Consistency-Token"] = written["consistency_token"]
    return written


async def album_lifecycle(http: httpx.AsyncClient, photos_dir: str, photos: int) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    account = {"email": email, "password": "correct horse battery staple", "name": "Footprint"}
    await call(http, "/api/auth/register", account, {})
    login = await call(http, "/api/auth/login", {k: account[k] for k in ("email", "password")}, {})
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    org = await call(http, "/api/orgs", {"name": "Footprint Studio"}, headers)
    folder = await call(
        http,
        f"/api/orgs/{org['org_id']}/storage/folders",
        {"provider": "local", "location": photos_dir, "name": "Shoot"},
        headers,
    )
    body = {
        "title": "Anna & Ben",
        "folder_id": folder["folder_id"],
        "client": {"name": "Anna Client", "email": "anna@example.com"},
    }
    album_id = (await call(http, f"/api/orgs/{org['org_id']}/albums", body, headers))["album_id"]
    await call(http, f"/api/albums/{album_id}/sync", None, headers)

    async def status() -> str:
        return str((await http.get(f"/api/albums/{album_id}", headers=headers)).json()["status"])

    await eventually(status, lambda s: s != "syncing", timeout=120, what="album synced")
    share = await call(http, f"/api/albums/{album_id}/share", {"allow_download": True}, headers)
    token = share["share_token"]
    listed = await http.get(
        f"/api/albums/{album_id}/photos", params={"limit": 500}, headers=headers
    )
    items = listed.json()["items"][: photos // 2]
    for item in items:
        await call(http, f"/api/share/{token}/photos/{item['photo_id']}/select", None, {})
    for item in items[:10]:
        path = f"/api/share/{token}/photos/{item['photo_id']}/comments"
        await call(http, path, {"text": "warmer, please"}, {})
    await call(http, f"/api/share/{token}/submit", None, {})
    await call(http, f"/api/albums/{album_id}/start-editing", None, headers)
    await call(http, f"/api/albums/{album_id}/deliver", None, headers)


async def kafka_bytes(bootstrap: str, prefix: str) -> dict[str, tuple[int, int]]:
    """Messages and bytes per topic, read from the beginning until nothing more comes."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    consumer.subscribe([prefix + t for t in all_topics()])
    per: dict[str, tuple[int, int]] = {}
    quiet, deadline = 0, time.monotonic() + 30
    try:
        while quiet < 3 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            quiet = 0 if batch else quiet + 1
            for tp, messages in batch.items():
                for m in messages:
                    size = len(m.value or b"") + len(m.key or b"")
                    size += sum(len(k) + len(v or b"") for k, v in m.headers)
                    count, total = per.get(tp.topic.removeprefix(prefix), (0, 0))
                    per[tp.topic.removeprefix(prefix)] = (count + 1, total + size)
    finally:
        await consumer.stop()
    return per


async def main(photos: int) -> None:
    async with whole_platform("bench-footprint") as running:
        folder = running.world.photos / "footprint"
        generate(folder, count=photos)
        await album_lifecycle(running.http, str(folder), photos)
        await asyncio.sleep(5)  # the relay, projections and renders settle
        s = running.world.settings
        print(
            f"one studio: {photos} photos synced and rendered, one album shared, "
            f"{photos // 2} picks, 10 comments, submitted, edited, delivered"
        )
        conn = await asyncpg.connect(s.database_url)
        try:
            events = state = 0
            for table in STORES:
                rows, size = await conn.fetchrow(
                    f"SELECT count(*), coalesce(sum(octet_length(state)), 0) FROM {table}"
                )
                events, state = events + rows, state + size
                print(f"  {table:36} {rows:6,} events, {size / max(rows, 1):7,.0f} B each")
            schemas = dict(
                await conn.fetch(
                    "SELECT n.nspname, sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                    "GROUP BY 1"
                )
            )
            albums = await conn.fetchval(
                "SELECT pg_total_relation_size('photoflow.albums_events') "
                "/ greatest(count(*), 1) FROM photoflow.albums_events"
            )
            chain = await conn.fetchval(
                "SELECT pg_total_relation_size('audit.chain') / greatest(count(*), 1) "
                "FROM audit.chain"
            )
        finally:
            await conn.close()
        print(f"  event stores: {events:,} events, {state / events:,.0f} B of state each")
        print(
            f"  on disk, with indexes: photoflow.albums_events {albums:,} B per event, its hash "
            f"chain row {chain:,} B; read tables {schemas.get('read', 0) / 1024:,.0f} KiB"
        )
        per = await kafka_bytes(s.kafka_bootstrap, s.topic_prefix)
        for topic, (count, size) in sorted(per.items(), key=lambda kv: -kv[1][1]):
            print(f"  kafka {topic:34} {count:6,} messages, {size / count:7,.0f} B each")
        messages = sum(c for c, _ in per.values())
        total = sum(b for _, b in per.values())
        print(
            f"  kafka: {messages:,} messages, {total / messages:,.0f} B each (key, value, headers)"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
