"""Forgetting a client: its and its guests' personal data unreadable everywhere, the log whole.

An album is created for a client with a unique email; guests with unique names pick, rate and
comment through the share link; an owner forgets the client. Then the email and the names are
searched for everywhere they could be: every row of every read table (and the album's own
event store), every audit answer, the audit export, the selection export, and every Kafka
topic read from its beginning by a fresh consumer, as raw bytes. None is found; the chain
still verifies and the album's counts are what they were.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from broker.admin import partitions_of
from broker.topics import all_topics
from infra.audit_export import check
from tests.e2e.conftest import Running
from tests.e2e.test_albums import Studio

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


async def rows_holding(running: Running, needles: list[str]) -> list[str]:
    """``schema.table: needle`` for every table with a row holding a needle: as text (the row
    cast to text) or as bytes (in any bytea column, such as an event store's ``state``)."""
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        tables = await conn.fetch(
            "SELECT t.table_schema, t.table_name, coalesce(array_agg(c.column_name)"
            " FILTER (WHERE c.data_type = 'bytea'), '{}') AS blobs"
            " FROM information_schema.tables t JOIN information_schema.columns c"
            " USING (table_schema, table_name) WHERE t.table_type = 'BASE TABLE'"
            " AND t.table_schema <> ALL($1::text[]) GROUP BY 1, 2",
            list(SYSTEM_SCHEMAS),
        )
        found = []
        for schema, name, blobs in tables:
            in_bytes = "".join(
                f" OR position(convert_to($1, 'UTF8') in t.\"{b}\") > 0" for b in blobs
            )
            for needle in needles:
                hit = await conn.fetchval(
                    f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{name}" t'
                    f" WHERE position(lower($1) in lower(t::text)) > 0{in_bytes})",
                    needle,
                )
                if hit:
                    found.append(f"{schema}.{name}: {needle}")
        return found
    finally:
        await conn.close()


async def stored_events_holding(running: Running, album_id: str, needles: list[str]) -> list[str]:
    """The album's stored events (bytes) and snapshots that hold a needle as plain bytes."""
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        found = []
        for table in ("photoflow.albums_events", "photoflow.albums_snapshots"):
            states = await conn.fetch(
                f"SELECT state FROM {table} WHERE originator_id = $1", uuid.UUID(album_id)
            )
            found += [f"{table}: {n}" for s in states for n in needles if n.encode() in s[0]]
        return found
    finally:
        await conn.close()


async def kafka_holding(running: Running, needles: list[str]) -> tuple[int, list[str]]:
    """Every topic from its beginning, with a fresh consumer: the messages holding a needle."""
    bootstrap = running.world.settings.kafka_bootstrap
    topics = [running.world.topic(t) for t in all_topics()]
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        read, found = 0, []
        deadline = time.monotonic() + 60
        while remaining:
            assert time.monotonic() < deadline, f"never reached the end of {remaining}"
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                for r in records:
                    raw = b"".join([r.key or b"", r.value or b""] + [v for _, v in r.headers])
                    read += 1
                    found += [f"{tp.topic}@{r.offset}: {n}" for n in needles if n.encode() in raw]
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return read, found
    finally:
        await consumer.stop()


def exported(running: Running, album_id: str) -> list[dict[str, Any]]:
    done = running.world.run("audit", "export", "albums", album_id)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def audit_answers(studio: Studio, album_id: str) -> str:
    events = await studio.get(f"/api/audit/albums/{album_id}/events", limit=500)
    state = await studio.get(f"/api/audit/albums/{album_id}/state")
    first = await studio.get(f"/api/audit/albums/{album_id}/state", version=1)
    return json.dumps([events, state, first])


async def test_a_forgotten_client_and_its_guests_are_found_nowhere_and_the_log_is_whole(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=4)
    marker = uuid.uuid4().hex[:10]
    email, client = f"forget-{marker}@example.com", f"Clientname{marker}"
    guests = [f"Guestzoe{marker}", f"Guestmax{marker}"]
    comment = f"Commenttext{marker}"
    title = f"Forget me {marker}"  # not personal: found everywhere, so each search is seen to work
    body = {"title": title, "folder_id": studio.folder_id}
    album_id = str(
        (
            await studio.post(
                f"/api/orgs/{studio.org_id}/albums",
                body | {"client": {"name": client, "email": email}},
                201,
            )
        )["album_id"]
    )
    await studio.sync(album_id)
    photos = await studio.photos(album_id)
    token = (await studio.post(f"/api/albums/{album_id}/share", {"allow_download": True}))[
        "share_token"
    ]
    http = running.http
    for n, guest in enumerate(guests):
        headers = {"X-Guest": guest}
        for photo in photos[n : n + 2]:
            picked = await http.post(
                f"/api/share/{token}/photos/{photo['photo_id']}/select", headers=headers
            )
            assert picked.status_code == 200, picked.text
        rated = await http.post(
            f"/api/share/{token}/photos/{photos[1]['photo_id']}/rating",
            json={"rating": 3 + n, "color": "red"},
            headers=headers,
        )
        assert rated.status_code == 200, rated.text
        said = await http.post(
            f"/api/share/{token}/photos/{photos[0]['photo_id']}/comments",
            json={"text": f"{comment} from {guest}"},
            headers=headers,
        )
        assert said.status_code == 201, said.text
        studio.headers["X-Consistency-Token"] = said.json()["consistency_token"]
    zipped = await http.get(
        f"/api/share/{token}/download",
        params={"scope": "selection"},
        headers={"X-Guest": guests[0]},
    )
    assert zipped.status_code == 200, zipped.text  # recorded: DownloadServed, its guest sealed

    # Before: members read the client and the guests by name; the stores hold them sealed.
    album = await studio.get(f"/api/albums/{album_id}")
    assert album["client"] == {"name": client, "email": email} and not album["client_forgotten"]
    assert album["share"]["active"] and {"forget_client", "revoke_share"} <= set(
        album["allowed_commands"]
    )
    listed = await studio.photos(album_id)
    assert set(listed[1]["picked_by"]) == set(guests) and set(listed[1]["ratings"]) == set(guests)
    selection = await http.get(
        f"/api/albums/{album_id}/selection/export", params={"format": "csv"}, headers=studio.headers
    )
    rows = list(csv.DictReader(io.StringIO(selection.text)))
    both = [r["picked_by"] for r in rows if r["name"] == listed[1]["name"]]
    assert [set(cell.split("; ")) for cell in both] == [set(guests)], "who picked, one by one"
    assert comment in json.dumps(await studio.get(f"/api/albums/{album_id}/comments"))
    assert email in await audit_answers(studio, album_id)
    needles = [email, client, *guests, comment]
    assert await stored_events_holding(running, album_id, needles) == []
    assert "read.albums: " + email in await rows_holding(running, [email])

    forgotten = await studio.post(f"/api/albums/{album_id}/forget-client", status=202)
    assert forgotten["version"] == album["version"] + 1
    after = await studio.get(f"/api/albums/{album_id}")  # waits for the read tables
    assert after["client"] == {"name": "[forgotten]", "email": "[forgotten]"}
    assert after["client_forgotten"] is True and "share" not in after["allowed_commands"]
    assert not after["share"]["active"], "the link died with the client"
    assert not {"revoke_share", "forget_client"} & set(after["allowed_commands"])
    again = await http.post(f"/api/albums/{album_id}/share", json={}, headers=studio.headers)
    assert again.status_code == 409, "no client left to share with"
    for count in ("photo_count", "selection_count", "comment_count"):
        assert after[count] == album[count], count
    relisted = await studio.photos(album_id)
    assert [len(p["picked_by"]) for p in relisted] == [len(p["picked_by"]) for p in listed]
    assert [p["rating"] for p in relisted] == [p["rating"] for p in listed]
    assert all(g.startswith("[forgotten guest ") for p in relisted for g in p["picked_by"])
    gone = await http.get(f"/api/share/{token}")
    assert gone.status_code == 404, "the link dies with the client"

    # Nowhere: read tables, the album's stored events, audit answers, exports, Kafka.
    assert {hit.partition(": ")[2] for hit in await rows_holding(running, [*needles, title])} == {
        title
    }
    assert await stored_events_holding(running, album_id, needles) == []
    audited = await audit_answers(studio, album_id)
    assert "[forgotten]" in audited and not [n for n in needles if n in audited]
    answer = await http.get(
        f"/api/albums/{album_id}/selection/export", params={"format": "csv"}, headers=studio.headers
    )
    assert answer.status_code == 200 and "[forgotten guest" in answer.text
    assert not [n for n in needles if n in answer.text]
    lines = exported(running, album_id)
    stored = b"".join(base64.b64decode(line.get("state", "")) for line in lines)
    assert len(lines) == after["version"] + 1 and not [n for n in needles if n.encode() in stored]
    read, found = await kafka_holding(running, [*needles, title])
    assert read > 0 and {hit.partition(": ")[2] for hit in found} == {title}

    verdict = await studio.get(f"/api/audit/albums/{album_id}/verify")
    assert verdict["ok"] and verdict["length"] == after["version"], verdict
    for stream, aggregate in (("orgs", studio.org_id), ("folders", studio.folder_id)):
        assert (await studio.get(f"/api/audit/{stream}/{aggregate}/verify"))["ok"], stream
    jwks = (await http.get("/api/auth/jwks.json")).json()["keys"]
    offline = check([json.dumps(line) for line in lines], jwks)
    assert offline.ok and offline.length == after["version"], offline
    events = await studio.get(f"/api/audit/albums/{album_id}/events", limit=500)
    assert [e["type"] for e in events["items"]][-1] == "AlbumClientForgotten"


async def test_members_see_the_client_and_a_photographer_may_not_forget_it(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=1)
    email = f"shown-{uuid.uuid4().hex[:10]}@example.com"
    body = {"title": "Shown", "client": {"name": "Shown Client", "email": email}}
    created = await studio.post(f"/api/orgs/{studio.org_id}/albums", body, 201)
    album = await studio.get(f"/api/albums/{created['album_id']}")
    assert album["client"] == {"name": "Shown Client", "email": email}
    listed = await studio.get(f"/api/orgs/{studio.org_id}/albums", q="shown client")
    assert [a["client"]["email"] for a in listed["items"]] == [email]
    audit = await studio.get(f"/api/audit/albums/{created['album_id']}/events")
    assert audit["items"][0]["data"]["client"] == {"name": "Shown Client", "email": email}
    stale = await running.http.post(
        f"/api/albums/{created['album_id']}/forget-client",
        headers={**studio.headers, "If-Match": "0"},
    )
    assert stale.status_code == 409 and stale.json()["type"].endswith("/concurrency-conflict")
