"""The relay's fast read path publishes exactly what the mapper path published, event for event.

Every application's store gets real events (the demo's user, studio, folder sync and album, a
provider's settings, a delivery, and an album whose events were stored in the old shapes, so
that ``class_version`` upcasts and the legacy ``StateChanged`` are read back). Then each log
is read twice: as the relay read it before the fast path (the mapper, ``describe``, ``encode``,
``headers``; written out below, independent of the code under test) and as the relay reads it
now (binary COPY rows into ``MessageBuilder``, in a thread and in the builder process). Topic,
key, body and headers must be equal for every message, and the fast path must not have handed
any type to the mapper except the legacy one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import AggregateEvent

from broker.envelope import describe, encode, headers, integration_copy
from broker.relay import RelaySource, builder_for
from broker.relay_envelopes import Message, MessageBuilder
from broker.topics import INTEGRATION_EVENTS, stream_of
from commands.album_upcasting import LEGACY_STATE_CHANGED
from domains.delivery import Delivery
from domains.provider import ProviderSettings
from infra.bootstrap import Platform, open_platform
from infra.demo import seed_demo
from tests.support.old_album_events import record_an_old_album
from tests.support.world import World
from tests.support.writes import create_and_rename

S3 = {"access_key_id": "AKIA", "secret_access_key": "secret", "region": "eu-west-1"}


def as_the_relay_read_before(app: Application[UUID], prefix: str) -> list[Message]:
    """``RelaySource.read`` before the fast path: each notification through the mapper."""
    messages: list[Message] = []
    for notification in app.recorder.select_notifications(start=0, limit=1_000_000):
        event = app.mapper.to_domain_event(notification)
        if not isinstance(event, AggregateEvent):
            continue
        stream = stream_of(event)
        if stream is None:
            continue
        fields = describe(event, stream)
        key = str(event.originator_id).encode()
        messages.append(
            (prefix + stream.topic, key, encode(fields), headers(fields, key)),
        )
        integration = INTEGRATION_EVENTS.get(fields["type"])
        if integration is not None:
            topic, renamed = integration
            copy = integration_copy(fields, renamed)
            messages.append((prefix + topic, key, encode(copy), headers(copy, key)))
    return messages


async def record_in_every_store(platform: Platform) -> None:
    await seed_demo(platform)  # users (encrypted), orgs, folders (syncs), albums (sync requested)
    await create_and_rename(platform.apps["orgs"], orgs=30, renames=2)
    await asyncio.to_thread(record_an_old_album, platform.apps["albums"])  # upcast on read
    providers = platform.apps["providers"]  # encrypted, with secrets never published
    settings_ = ProviderSettings.configure(uuid4(), "s3", S3, uuid4())
    settings_.reconfigure({**S3, "region": "us-east-1"}, uuid4())
    await asyncio.to_thread(providers.save, settings_)
    delivery = Delivery.queue("invitation", "ann@example.com", "Hi", uuid4(), uuid4())
    delivery.record_sent(delivery.next_attempt, "m-1")
    await asyncio.to_thread(platform.apps["deliveries"].save, delivery)


async def as_the_relay_reads_now(
    platform: Platform, source: RelaySource, in_process: bool
) -> list[Message]:
    builder = builder_for([source]) if in_process else None
    if builder is not None:
        await builder.start()
    messages: list[Message] = []
    try:
        async with platform.pool.acquire() as conn:
            position = 0
            while True:
                batch = await source.fetch(conn, position, 50, builder)
                if batch.reached == position:
                    return messages
                messages.extend(batch.messages)
                position = batch.reached
    finally:
        if builder is not None:
            await builder.close()


async def test_the_fast_path_publishes_what_the_mapper_path_published(
    world: World, tmp_path: Path
) -> None:
    settings = world.settings.model_copy(update={"demo_photos_dir": str(tmp_path / "photos")})
    async with open_platform(settings) as platform:
        await record_in_every_store(platform)
        await compare_every_store(platform, settings.topic_prefix)


async def compare_every_store(platform: Platform, prefix: str) -> None:
    seen_types: set[str] = set()
    for app in platform.applications():
        before = await asyncio.to_thread(as_the_relay_read_before, app, prefix)
        assert before, f"{app.name}: no events recorded, nothing compared"
        source = RelaySource(app, prefix)
        builder: MessageBuilder = source._builder
        in_thread = await as_the_relay_reads_now(platform, source, in_process=False)
        assert builder.read_through_mapper <= {LEGACY_STATE_CHANGED}, app.name
        assert builder.fallbacks == 0, app.name
        for i, (expected, got) in enumerate(zip(before, in_thread, strict=True)):
            assert got == expected, f"{app.name}, message {i}"
        in_process = await as_the_relay_reads_now(platform, source, in_process=True)
        assert in_process == before, f"{app.name}: built in the builder process"
        seen_types |= {dict(m[3])["type"].decode() for m in before}
    # what the comparison covered: encrypted stores, upcasts, integration copies
    assert {"UserRegistered", "ProviderSettingsConfigured"} <= seen_types
    assert {"AlbumPhotoSelected", "AlbumSelectionSubmitted", "AlbumReopened"} <= seen_types
    assert {"FullSyncStorage", "AlbumSyncRequested", "OrganizationRenamed"} <= seen_types
