"""``GET /metrics``: what a Prometheus scrape of the running platform sees."""

from __future__ import annotations

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
