"""Admitting requests together: each answer is its own, every request is counted once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from infra.admission import RedisAdmission
from infra.revocations import Revocations
from infra.settings import Settings
from queries.gate import RedisRateLimit
from queries.problems import Problem


@pytest.fixture
async def redis(stack: None) -> AsyncIterator[Redis]:
    client = Redis.from_url(Settings().redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def admission(redis: Redis, namespace: str, limit: int) -> tuple[RedisAdmission, Revocations]:
    revocations = Revocations(redis, namespace, 60)
    return RedisAdmission(
        redis, revocations, {"user": RedisRateLimit(redis, namespace, limit, 60)}
    ), revocations


async def test_requests_asking_together_get_their_own_answers(redis: Redis) -> None:
    namespace = f"test-admission-{uuid4().hex[:8]}"
    admit, revocations = admission(redis, namespace, limit=1000)
    user, other = uuid4(), uuid4()
    sessions = [uuid4() for _ in range(50)]
    await revocations.revoke_session(sessions[7])
    await revocations.revoke_user(other)
    answers = await asyncio.gather(
        *(admit.admit(user, s, "user") for s in sessions),
        *(admit.admit(other, uuid4(), "user") for _ in range(5)),
    )
    assert answers[:50] == [s == sessions[7] for s in sessions]
    assert answers[50:] == [True] * 5, "a revoked user's every session"
    counted = await redis.keys(f"{namespace}:rate:user:{user}:*")
    assert [int(await redis.get(k) or 0) for k in counted] == [50], "each request counted once"


async def test_past_the_limit_only_the_late_requests_are_refused(redis: Redis) -> None:
    namespace = f"test-admission-{uuid4().hex[:8]}"
    admit, _ = admission(redis, namespace, limit=30)
    user = uuid4()
    outcomes = await asyncio.gather(
        *(admit.admit(user, uuid4(), "user") for _ in range(40)), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, Problem)]
    assert len(refused) == 10 and all(r.status == 429 for r in refused)


async def test_a_redis_that_forgot_the_script_is_taught_it_again(redis: Redis) -> None:
    namespace = f"test-admission-{uuid4().hex[:8]}"
    admit, _ = admission(redis, namespace, limit=1000)
    user = uuid4()
    await asyncio.gather(*(admit.admit(user, uuid4(), "user") for _ in range(3)))
    await redis.script_flush()
    answers = await asyncio.gather(*(admit.admit(user, uuid4(), "user") for _ in range(3)))
    assert answers == [False, False, False]
    answers = [await admit.admit(user, uuid4(), "user")]  # alone in its turn of the loop
    assert answers == [False]
