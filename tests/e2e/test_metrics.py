"""``GET /metrics``: what a Prometheus scrape of the running platform sees."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Running


async def scrape(running: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await running.http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


async def test_a_scrape_shows_route_latency_and_every_worker(running: Running) -> None:
    user = await running.account()
    org = await running.http.post("/api/orgs", json={"name": "Scraped"}, headers=user.headers)
    org_id = org.json()["org_id"]
    token = {"X-Consistency-Token": org.json()["consistency_token"]}
    for _ in range(3):
        read = await running.http.get(f"/api/orgs/{org_id}", headers={**user.headers, **token})
        assert read.status_code == 200
    # what a caller types never becomes a label: a made-up share token, a path no route has
    for probe in ("/api/share/probe-token-one", "/api/no-such-thing/probe-path-two"):
        assert (await running.http.get(probe)).status_code == 404
    samples = await scrape(running)

    route = (("method", "GET"), ("route", "/api/orgs/{org_id}"))
    assert samples[("photoflow_http_request_seconds_count", route)] >= 3
    answered = (("method", "GET"), ("route", "/api/orgs/{org_id}"), ("status", "200"))
    assert samples[("photoflow_http_responses_total", answered)] >= 3
    assert not any(org_id in str(labels) for _, labels in samples), "ids never become labels"
    assert not any("probe-" in str(labels) for _, labels in samples), "nor what callers type"
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert samples[("photoflow_http_responses_total", unmatched)] >= 1
    for worker in ("relay", "sender", "sync", "projector:orgs", "projector:albums"):
        assert samples[("photoflow_worker_instances", (("worker", worker),))] == 1
        assert samples[("photoflow_parked_messages", (("worker", worker),))] == 0


async def test_a_scrape_counts_commands_batches_and_each_workers_events(running: Running) -> None:
    """Commands by outcome, events recorded, batch sizes, and the events each worker handled:
    what a dashboard needs for commands and events per second."""
    before = await scrape(running)
    user = await running.account()
    org = await running.http.post("/api/orgs", json={"name": "Counted"}, headers=user.headers)
    assert org.status_code == 201
    written = org.json()
    stale = await running.http.patch(  # a command the domain refuses: the version moved on
        f"/api/orgs/{written['org_id']}",
        json={"name": "Renamed"},
        headers={**user.headers, "If-Match": '"999"'},
    )
    assert stale.status_code in (409, 412), stale.text
    token = {"X-Consistency-Token": written["consistency_token"]}
    read = await running.http.get(
        f"/api/orgs/{written['org_id']}", headers={**user.headers, **token}
    )
    assert read.status_code == 200

    def grew(
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float],
        name: str,
        labels: tuple[tuple[str, str], ...],
    ) -> float:
        return samples.get((name, labels), 0.0) - before.get((name, labels), 0.0)

    orgs = (("application", "Organizations"),)
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # the workers' counts travel in heartbeats, renewed every second
        samples = await scrape(running)
        applied = grew(samples, "photoflow_worker_events_total", (("worker", "projector:orgs"),))
        published = grew(samples, "photoflow_worker_events_total", (("worker", "relay"),))
        if (applied >= 1 and published >= 2) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.3)
    assert applied >= 1, "the orgs projector applied the new studio's events"
    assert published >= 2, "the relay published its two events (created, owner added)"
    written_label = (*orgs, ("outcome", "written"))
    assert grew(samples, "photoflow_commands_total", written_label) >= 1
    refused_label = (*orgs, ("outcome", "refused"))
    assert grew(samples, "photoflow_commands_total", refused_label) >= 1
    assert grew(samples, "photoflow_events_recorded_total", orgs) >= 2
    assert grew(samples, "photoflow_group_commit_batch_commands_count", orgs) >= 1
    assert grew(samples, "photoflow_group_commit_batch_commands_sum", orgs) >= 2
