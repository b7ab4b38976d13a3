"""``GET /metrics``: what a Prometheus scrape of the running platform sees."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Running

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(running: Running) -> Samples:
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
    user = await running.account()
    before = await scrape(running)  # after sign-up: what follows is this test's alone
    org = await running.http.post("/api/orgs", json={"name": "Counted"}, headers=user.headers)
    assert org.status_code == 201
    written = org.json()
    path = f"/api/orgs/{written['org_id']}"
    blank = await running.http.patch(path, json={"name": "   "}, headers=user.headers)
    assert blank.status_code == 422, blank.text  # the domain refuses a blank name
    stale = {**user.headers, "If-Match": f'"{written["version"] - 1}"'}
    late = await running.http.patch(path, json={"name": "Renamed"}, headers=stale)
    assert late.status_code in (409, 412), late.text
    token = {"X-Consistency-Token": written["consistency_token"]}
    read = await running.http.get(path, headers={**user.headers, **token})
    assert read.status_code == 200

    def grew(samples: Samples, name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return samples.get(key, 0.0) - before.get(key, 0.0)

    def worker_grew(samples: Samples, worker: str) -> float:
        """Summed over the worker's processes (one series each, labelled by instance)."""
        return sum(
            value - before.get((name, labels), 0.0)
            for (name, labels), value in samples.items()
            if name == "photoflow_worker_events_total" and ("worker", worker) in labels
        )

    orgs = "Organizations"
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # the workers' counts travel in heartbeats, renewed every second
        samples = await scrape(running)
        applied, published = worker_grew(samples, "projector:orgs"), worker_grew(samples, "relay")
        if (applied >= 2 and published >= 2) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.3)
    assert applied >= 2, "the orgs projector applied the new studio's two events"
    assert published >= 2, "the relay published them"
    commands = "photoflow_commands_total"
    assert grew(samples, commands, application=orgs, outcome="written") == 1
    assert grew(samples, commands, application=orgs, outcome="refused") == 1
    assert grew(samples, commands, application=orgs, outcome="conflict") == 1
    assert grew(samples, "photoflow_events_recorded_total", application=orgs) == 2
    batches = "photoflow_group_commit_batch_commands"
    assert grew(samples, f"{batches}_count", application=orgs) == 3
    assert grew(samples, f"{batches}_sum", application=orgs) == 3
