"""The query API reads from READ_REPLICA_URL when one is set, and only reads there.

No second PostgreSQL server streams here, so the "replica" is the same database reached by
read-only sessions (``default_transaction_read_only``), which refuse every write as a hot
standby does: the platform works on it only if nothing but reads goes that way.
"""

from __future__ import annotations

import asyncpg

from tests.e2e.conftest import running_platform
from tests.support.accounts import sign_up
from tests.support.google import CLIENT_ID, google_certs_server
from tests.support.world import new_world

REPLICA = "photoflow-replica-test"


async def test_the_query_api_reads_from_the_replica_and_writes_elsewhere(stack: None) -> None:
    async with new_world() as world:
        database = world.settings.database_url
        replica = f"{database}?application_name={REPLICA}&default_transaction_read_only=on"
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="replica",
                auth_rate_limit="100000",
                google_client_id=CLIENT_ID,
                google_certs_url=google.certs_url,
                read_replica_url=replica,
            )
            async with running_platform(world, process, google) as running:
                who = await sign_up(running.http)
                made = await running.http.post(
                    "/api/orgs", json={"name": "Replica Studio"}, headers=who.headers
                )
                assert made.status_code == 201, made.text
                written = made.json()
                token = {**who.headers, "X-Consistency-Token": written["consistency_token"]}
                read = await running.http.get(f"/api/orgs/{written['org_id']}", headers=token)
                assert read.status_code == 200, read.text
                assert read.json()["name"] == "Replica Studio"
                listed = await running.http.get("/api/orgs", headers=who.headers)
                assert [o["name"] for o in listed.json()["items"]] == ["Replica Studio"]

                conn = await asyncpg.connect(database)
                try:
                    sessions = await conn.fetch(
                        "SELECT query FROM pg_stat_activity "
                        "WHERE application_name = $1 AND datname = current_database()",
                        REPLICA,
                    )
                finally:
                    await conn.close()
                assert sessions, "the API opened no session on the replica"
                assert any("read." in s["query"] for s in sessions), [s["query"] for s in sessions]
