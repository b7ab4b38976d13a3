"""Tiers by folder: unit tests need nothing; integration and e2e tests start the local stack."""

from __future__ import annotations

import pytest

from infra.stack import ensure_up


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for tier in ("unit", "integration", "e2e"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def stack() -> None:
    """The real PostgreSQL, Redis and Kafka: started if they do not answer yet."""
    ensure_up()
