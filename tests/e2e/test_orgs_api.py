"""Studios through the running platform: writes, reads of one's own writes, races, bad input."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from queries.consistency import Token
from tests.e2e.conftest import Running

PROBLEM = "application/problem+json"


async def create(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    answer = await http.post("/api/orgs", json={"name": name})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def recorded_events(running: Running) -> int:
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM organization.organizations_events"))
    finally:
        await conn.close()


async def test_a_new_studio_is_readable_at_once_with_its_consistency_token(
    running: Running,
) -> None:
    written = await create(running.http, "Atelier Lumière")
    answer = await running.http.get(
        f"/api/orgs/{written['org_id']}",
        headers={"X-Consistency-Token": written["consistency_token"]},
    )
    assert answer.status_code == 200, answer.text
    org = answer.json()
    assert (org["org_id"], org["name"], org["version"]) == (written["org_id"], "Atelier Lumière", 1)
    assert written["version"] == 1


async def test_two_writes_racing_on_one_studio_end_in_one_winner_and_a_409(
    running: Running,
) -> None:
    org = await create(running.http, "Race Studio")
    answers = await asyncio.gather(
        *(
            running.http.patch(
                f"/api/orgs/{org['org_id']}",
                json={"name": f"Winner {i}"},
                headers={"If-Match": "1"},
            )
            for i in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    [loser] = [a for a in answers if a.status_code == 409]
    assert loser.headers["content-type"] == PROBLEM
    assert loser.json()["type"].endswith("/concurrency-conflict")
    [winner] = [a for a in answers if a.status_code == 200]
    shown = await running.http.get(
        f"/api/orgs/{org['org_id']}",
        headers={"X-Consistency-Token": winner.json()["consistency_token"]},
    )
    assert shown.json()["version"] == 2
    events = (await running.http.get(f"/api/audit/orgs/{org['org_id']}/events")).json()["items"]
    assert [e["type"] for e in events] == ["OrganizationCreated", "OrganizationRenamed"]
    assert events[1]["data"]["name"] == shown.json()["name"]


async def test_unconditional_concurrent_renames_lose_no_update(running: Running) -> None:
    org = await create(running.http, "Busy Studio")
    answers = await asyncio.gather(
        *(
            running.http.patch(f"/api/orgs/{org['org_id']}", json={"name": f"Name {i}"})
            for i in range(12)
        )
    )
    assert [a.status_code for a in answers] == [200] * 12
    assert sorted(a.json()["version"] for a in answers) == list(range(2, 14))
    events = (await running.http.get(f"/api/audit/orgs/{org['org_id']}/events")).json()["items"]
    assert len(events) == 13


BAD_BODIES: list[tuple[str, bytes, dict[str, str], int, str | None]] = [
    ("not json", b'{"name": "x"', {}, 400, None),
    ("not an object", b'["Studio"]', {}, 422, "body"),
    ("missing field", b"{}", {}, 422, "name"),
    ("wrong type", b'{"name": 42}', {}, 422, "name"),
    ("empty name", b'{"name": "   "}', {}, 422, "name"),
    ("unknown field", b'{"name": "A", "colour": "red"}', {}, 422, "colour"),
    ("huge body", b'{"name": "' + b"x" * 2_000_000 + b'"}', {}, 413, None),
    ("empty body", b"", {}, 400, None),
]


@pytest.mark.parametrize(
    ("case", "body", "headers", "status", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_input_is_a_clear_problem_and_writes_nothing(
    running: Running,
    case: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    before = await recorded_events(running)
    answer = await running.http.post(
        "/api/orgs", content=body, headers={"content-type": "application/json", **headers}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]
    assert await recorded_events(running) == before


async def test_unknown_ids_and_routes_are_404_problems(running: Running) -> None:
    for path in (
        f"/api/orgs/{uuid.uuid4()}",
        "/api/orgs/not-a-uuid",
        "/api/nowhere",
        f"/api/audit/orgs/{uuid.uuid4()}/events",
        f"/api/audit/spaceships/{uuid.uuid4()}/events",
    ):
        answer = await running.http.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == PROBLEM


async def test_a_token_for_a_write_that_never_happened_gives_up_with_409(
    running: Running,
) -> None:
    org = await create(running.http, "Patient Studio")
    future = Token("orgs", uuid.UUID(org["org_id"]), 99).encode()
    running_wait = running.http.get(
        f"/api/orgs/{org['org_id']}", headers={"X-Consistency-Token": future}
    )
    answer = await running_wait
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/not-yet-consistent")
    bad = await running.http.get(
        f"/api/orgs/{org['org_id']}", headers={"X-Consistency-Token": "garbage"}
    )
    assert bad.status_code == 400


async def test_studios_are_listed_in_pages(running: Running) -> None:
    created = [await create(running.http, f"Paged {i}") for i in range(5)]
    last = created[-1]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = await running.http.get(
            "/api/orgs", params=params, headers={"X-Consistency-Token": last["consistency_token"]}
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= 2
        seen += [o["org_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert {o["org_id"] for o in created} <= set(seen)
    too_many = await running.http.get("/api/orgs", params={"limit": 501})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "query.limit"
