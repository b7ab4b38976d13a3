"""A live projection worker on a test's world, as the projections process runs it."""

from __future__ import annotations

from infra.bootstrap import Platform
from projections.orgs import OrgsProjection
from projections.worker import ProjectionWorker
from tests.support.world import World


async def orgs_worker(platform: Platform, world: World, batch_size: int) -> ProjectionWorker:
    """The ``orgs`` projection's worker, with the platform's failure policy for it."""
    return ProjectionWorker(
        OrgsProjection(),
        platform.pool,
        world.settings.kafka_bootstrap,
        batch_size=batch_size,
        policy=await platform.message_policy("projector:orgs"),
        namespace=world.settings.namespace,
        topic_prefix=world.settings.topic_prefix,
    )
