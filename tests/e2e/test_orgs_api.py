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
from tests.support.accounts import Account

PROBLEM = "application/problem+json"
CREATED_VERSION = 2  # Created, then MemberAdded for the owner


async def create(http: httpx.AsyncClient, who: Account, name: str) -> dict[str, Any]:
    answer = await http.post("/api/orgs", json={"name": name}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def with_token(who: Account, written: dict[str, Any]) -> dict[str, str]:
    return {**who.headers, "X-Consistency-Token": written["consistency_token"]}


async def recorded_events(running: Running) -> int:
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM organization.organizations_events"))
    finally:
        await conn.close()


async def test_a_new_studio_is_readable_at_once_with_its_consistency_token(
    running: Running,
) -> None:
    ann = await running.account()
    written = await create(running.http, ann, "Atelier Lumière")
    answer = await running.http.get(
        f"/api/orgs/{written['org_id']}", headers=with_token(ann, written)
    )
    assert answer.status_code == 200, answer.text
    org = answer.json()
    assert (org["org_id"], org["name"]) == (written["org_id"], "Atelier Lumière")
    assert org["version"] == written["version"] == CREATED_VERSION


async def test_two_writes_racing_on_one_studio_end_in_one_winner_and_a_409(
    running: Running,
) -> None:
    ann = await running.account()
    org = await create(running.http, ann, "Race Studio")
    answers = await asyncio.gather(
        *(
            running.http.patch(
                f"/api/orgs/{org['org_id']}",
                json={"name": f"Winner {i}"},
                headers={**ann.headers, "If-Match": str(CREATED_VERSION)},
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
        f"/api/orgs/{org['org_id']}", headers=with_token(ann, winner.json())
    )
    assert shown.json()["version"] == CREATED_VERSION + 1
    events = (
        await running.http.get(f"/api/audit/orgs/{org['org_id']}/events", headers=ann.headers)
    ).json()["items"]
    assert [e["type"] for e in events] == [
        "OrganizationCreated",
        "OrganizationMemberAdded",
        "OrganizationRenamed",
    ]
    assert events[-1]["data"]["name"] == shown.json()["name"]


async def test_unconditional_concurrent_renames_lose_no_update(running: Running) -> None:
    ann = await running.account()
    org = await create(running.http, ann, "Busy Studio")
    answers = await asyncio.gather(
        *(
            running.http.patch(
                f"/api/orgs/{org['org_id']}", json={"name": f"Name {i}"}, headers=ann.headers
            )
            for i in range(12)
        )
    )
    assert [a.status_code for a in answers] == [200] * 12
    assert sorted(a.json()["version"] for a in answers) == list(
        range(CREATED_VERSION + 1, CREATED_VERSION + 13)
    )
    events = (
        await running.http.get(f"/api/audit/orgs/{org['org_id']}/events", headers=ann.headers)
    ).json()["items"]
    assert len(events) == CREATED_VERSION + 12


BAD_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("not json", b'{"name": "x"', 400, None),
    ("not an object", b'["Studio"]', 422, "body"),
    ("missing field", b"{}", 422, "name"),
    ("wrong type", b'{"name": 42}', 422, "name"),
    ("empty name", b'{"name": "   "}', 422, "name"),
    ("unknown field", b'{"name": "A", "colour": "red"}', 422, "colour"),
    ("huge body", b'{"name": "' + b"x" * 2_000_000 + b'"}', 413, None),
    ("empty body", b"", 400, None),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_input_is_a_clear_problem_and_writes_nothing(
    running: Running,
    case: str,
    body: bytes,
    status: int,
    field: str | None,
) -> None:
    ann = await running.account()
    before = await recorded_events(running)
    answer = await running.http.post(
        "/api/orgs", content=body, headers={"content-type": "application/json", **ann.headers}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]
    assert await recorded_events(running) == before


async def test_unknown_ids_and_routes_are_404_problems(running: Running) -> None:
    ann = await running.account()
    for path in (
        f"/api/orgs/{uuid.uuid4()}",
        "/api/orgs/not-a-uuid",
        "/api/nowhere",
        f"/api/audit/orgs/{uuid.uuid4()}/events",
        f"/api/audit/spaceships/{uuid.uuid4()}/events",
    ):
        answer = await running.http.get(path, headers=ann.headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == PROBLEM


async def test_a_token_for_a_write_that_never_happened_gives_up_with_409(
    running: Running,
) -> None:
    ann = await running.account()
    org = await create(running.http, ann, "Patient Studio")
    future = Token("orgs", uuid.UUID(org["org_id"]), 99).encode()
    answer = await running.http.get(
        f"/api/orgs/{org['org_id']}", headers={**ann.headers, "X-Consistency-Token": future}
    )
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/not-yet-consistent")
    bad = await running.http.get(
        f"/api/orgs/{org['org_id']}", headers={**ann.headers, "X-Consistency-Token": "garbage"}
    )
    assert bad.status_code == 400


async def test_studios_are_listed_in_pages(running: Running) -> None:
    ann = await running.account()
    created = [await create(running.http, ann, f"Paged {i}") for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = await running.http.get(
            "/api/orgs", params=params, headers=with_token(ann, created[-1])
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= 2
        seen += [o["org_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(o["org_id"] for o in created)
    too_many = await running.http.get("/api/orgs", params={"limit": 501}, headers=ann.headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "query.limit"
