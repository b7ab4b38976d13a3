"""The composition root: settings in, connected parts out. Nothing is built at import time.

``Platform`` holds the shared connections; ``serve_api``, ``run_relay`` and ``run_projector``
are the roles a process can play, alone or together (``python -m infra run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from eventsourcing.application import Application
from redis.asyncio import BlockingConnectionPool, Redis

from broker import parking
from broker.admin import ensure_topics
from broker.album_snapshot_consumer import AlbumSnapshotter
from broker.album_sync_consumer import AlbumSyncTrigger
from broker.asyncapi import asyncapi_document
from broker.failure_policy import Backoff, MessagePolicy
from broker.live_feed import LiveFeed
from broker.relay import Relay, RelaySource, make_producer
from broker.render_consumer import RenderWorker
from broker.sender_consumer import SenderConsumer
from broker.sync_consumer import SyncWorker
from broker.topics import (
    ALBUMS,
    DELIVERIES,
    DOWNLOADS,
    FOLDERS,
    ORGS,
    PROVIDERS,
    RENDITIONS,
    USERS,
    planned_partitions,
)
from commands.album_sync import AlbumSyncManager
from commands.albums import AlbumCommands, AlbumsApplication
from commands.digest import digest_forever
from commands.downloads import DownloadCommands
from commands.folder_sync import FolderSync
from commands.group_commit import BatchDone, BatchObserver, GroupCommitter
from commands.history import EventHistory
from commands.identity import IdentityApplication, IdentityCommands
from commands.organizations import OrganizationApplication, OrganizationCommands
from commands.providers import ProviderApplication, ProviderCommands, provider_credentials
from commands.rendering import RenderService
from commands.sender import Mailer, RetryPolicy, SenderApplication, SenderService
from commands.storage import StorageApplication, StorageCommands
from commands.watermarks import StudioWatermarks
from domains.folder import Folder
from infra import client_keys, hash_chain, keys, pg_sessions
from infra.admission import RedisAdmission
from infra.album_sync_ports import AlbumMailFacts, AlbumSyncReads, DigestReads
from infra.eventstore import DDL_LOCK, events_table, open_application
from infra.folder_owners import StorageFolderOwners
from infra.google import google_verifier
from infra.hash_chain import ChainStore
from infra.heartbeats import beat_forever, instance_name, worker_label
from infra.mail import JinjaRenderer, MailboxMailer, SmtpMailer
from infra.originals import FolderPlace, Originals
from infra.rendition_store import RenditionStore, S3RenditionStore, rendition_store
from infra.revocations import Revocations
from infra.settings import Settings
from infra.share_link_cache import RedisShareLinkCache
from infra.storage_wiring import (
    Locations,
    Sources,
    allowance,
    outbound_policy,
    provider_config,
)
from infra.studio_roles import OrganizationStudioRoles
from infra.supervisor import Watchdog, WorkerState, supervise
from infra.tokens import AccessTokens
from infra.watermark_store import StoredWatermarkImages, WatermarkedPreviews
from infra.writer_lock import PostgresWriterLock
from projections import positions
from projections.registry import all_projections
from projections.worker import ProjectionWorker, worker_name
from queries.app import ApiParts, build_app
from queries.auth import BearerAuthenticator
from queries.docs import API_VERSION
from queries.gate import RedisRateLimit
from queries.images import ImageParts
from queries.metrics import Metrics
from queries.stream_tokens import StreamTokens
from queries.streams import LiveParts

log = logging.getLogger(__name__)


ONE_WRITER_AT_A_TIME = frozenset({ALBUMS.name})
"""Applications whose batches take a cross-process writer lock: an album is one large aggregate
that every API process and the album-sync manager write (see ``commands.group_commit``)."""


@dataclass
class Platform:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    apps: dict[str, Application[UUID]]
    """Each audit stream's application (one application may serve several streams)."""
    instance: str
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _committers: dict[str, GroupCommitter] = field(default_factory=dict)
    batch_observers: list[BatchObserver] = field(default_factory=list)
    """Told what each batch of this process's writers came to (the API's ``/metrics``)."""
    _dead_letters: AIOKafkaProducer | None = None
    replica: asyncpg.Pool | None = None
    """READ_REPLICA_URL's pool, opened by the API only (``open_replica``)."""

    async def open_replica(self) -> None:
        """Open the replica's pool for the query API, if one is set and answers.

        A replica that does not answer (or a URL that is none) must not stop the API: it then
        reads from the primary, and says so once.
        """
        url = self.settings.read_replica_url
        if not url or self.replica is not None:
            return
        try:
            self.replica = await _read_pool(url, self.settings)
        except Exception as error:
            log.warning(
                "PHOTOFLOW_READ_REPLICA_URL is not usable (%s: %s); the API reads from "
                "DATABASE_URL until it is restarted",
                type(error).__name__,
                error,
            )
            return
        self.stack.push_async_callback(_close_pool, self.replica)

    @property
    def reads(self) -> asyncpg.Pool:
        """Where the query API reads the read tables: READ_REPLICA_URL, else the primary.

        Only reads go there: the API's few writes (a client's key), the projections and every
        worker use ``pool``. A consistency token stays exact on a replica: a projection writes
        its rows and its position in one transaction, so a replica showing one shows both.
        """
        return self.replica or self.pool

    @property
    def keys_dir(self) -> Path:
        return Path(self.settings.keys_dir)

    async def committer(self, stream: str) -> GroupCommitter:
        """The one writer for a stream's application in this process, shared by every role.

        One writer thread per application and process keeps commands on one aggregate in
        order, and lets large aggregates skip the cache's deep copy safely.
        """
        app = self.apps[stream]
        key = app.name
        if key not in self._committers:
            lock = None
            if stream in ONE_WRITER_AT_A_TIME:
                lock = PostgresWriterLock(self.settings, app.name)
                self.stack.callback(lock.close)  # after the committer stops (LIFO)
            committer = GroupCommitter(
                app,
                self.settings.group_commit_max_batch,
                self.settings.database_timeout_seconds,
                lock,
                self._batch_done,
            )
            self._committers[key] = await self.stack.enter_async_context(committer)
        return self._committers[key]

    def _batch_done(self, done: BatchDone) -> None:
        # read at every batch: an observer added after a writer started still hears from it
        for observe in self.batch_observers:
            observe(done)

    def applications(self) -> list[Application[UUID]]:
        return list({id(app): app for app in self.apps.values()}.values())

    async def message_policy(self, worker: str) -> MessagePolicy:
        """The failure policy of one consumer, parking into ``ops.parked`` and ``<topic>.dlt``."""
        if self._dead_letters is None:
            producer = make_producer(self.settings.kafka_bootstrap)
            await producer.start()
            self.stack.push_async_callback(producer.stop)
            self._dead_letters = producer
        s = self.settings
        return MessagePolicy(
            parking.ParkingLot(worker, self.pool, self._dead_letters),
            s.consumer_attempts,
            Backoff(s.consumer_retry_base_seconds, s.consumer_retry_max_seconds),
        )

    async def postgres_answers(self) -> bool:
        try:
            async with asyncio.timeout(2):
                async with self.pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True


@asynccontextmanager
async def open_platform(
    settings: Settings, streams: Collection[str] | None = None
) -> AsyncIterator[Platform]:
    """Connect to PostgreSQL, Redis and Kafka; create topics, event stores and read tables.

    ``streams`` names the event stores a role uses (None: all): only those are opened, so a
    process holds PostgreSQL connections only for what it uses (see the README's budget).
    """
    async with AsyncExitStack() as stack:
        planned = planned_partitions(settings.kafka_partitions, settings.topic_partitions)
        await ensure_topics(
            settings.kafka_bootstrap,
            {settings.topic_prefix + topic: count for topic, count in planned.items()},
        )
        pool = await _read_pool(settings.database_url, settings)
        stack.push_async_callback(_close_pool, pool)
        # A blocking pool: under a burst, a request waits for a connection instead of failing.
        redis = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=256, timeout=5
            )
        )
        stack.push_async_callback(redis.aclose)
        await _create_read_tables(pool)
        key = keys.cipher_key(Path(settings.keys_dir))
        stores: list[tuple[tuple[str, ...], type[Application[UUID]], str, str | None, bool]] = [
            ((ORGS.name,), OrganizationApplication, "organization", None, True),
            ((USERS.name,), IdentityApplication, "identity", key, True),
            ((PROVIDERS.name,), ProviderApplication, "provider", key, True),
            ((DELIVERIES.name,), SenderApplication, "sender", None, True),
            (
                (FOLDERS.name, RENDITIONS.name, DOWNLOADS.name),
                StorageApplication,
                "storage",
                None,
                True,
            ),
            ((ALBUMS.name,), AlbumsApplication, "photoflow", None, False),
        ]
        apps: dict[str, Application[UUID]] = {}
        for names, cls, schema, cipher, copy in stores:
            if streams is not None and not set(names) & set(streams):
                continue
            app = await asyncio.to_thread(open_application, cls, settings, schema, cipher, copy)
            stack.callback(app.close)
            apps.update(dict.fromkeys(names, app))
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", DDL_LOCK)
            await hash_chain.install(conn, sorted({events_table(a) for a in apps.values()}))
            await client_keys.install(conn)
        platform = Platform(settings, pool, redis, apps, instance_name(settings.instance))
        stack.push_async_callback(platform.stack.aclose)  # the writers stop before the stores
        yield platform


async def _read_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.read_pool_min,
        max_size=max(settings.read_pool_min, settings.read_pool_max),
        timeout=settings.database_timeout_seconds,  # connecting: fail fast while it is down
        reset=pg_sessions.nothing_to_reset,  # no session state is left on a pooled connection
    )


async def _close_pool(pool: asyncpg.Pool, grace: float = 5.0) -> None:
    """Close the pool, but never wait forever for a connection someone failed to give back."""
    try:
        await asyncio.wait_for(pool.close(), grace)
    except TimeoutError:
        log.warning("PostgreSQL connections still in use after %.0f s; closing them", grace)
        pool.terminate()


async def _create_read_tables(pool: asyncpg.Pool) -> None:
    """Every read table exists before the first query, even before its projector has run."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", DDL_LOCK)
        await positions.create_schema(conn)
        await parking.create_schema(conn)
        for projection in all_projections().values():
            await positions.upgrade(conn, projection)


def required_workers() -> list[tuple[str, str]]:
    return [
        ("relay", "relay"),
        ("sender", "sender"),
        ("sync", "sync"),
        ("album-sync", "album-sync"),
        ("album-snapshots", "album-snapshots"),
        ("render", "render"),
        *(("projector", name) for name in all_projections()),
    ]


async def serve_api(platform: Platform, sockets: list[socket.socket] | None = None) -> None:
    """The HTTP API on HTTP_HOST:HTTP_PORT, or on ``sockets`` already bound (shared port)."""
    settings = platform.settings
    kafka_admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await kafka_admin.start()
    tokens = AccessTokens.from_folder(
        platform.keys_dir,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_seconds,
    )
    revocations = Revocations(platform.redis, settings.namespace, settings.access_token_seconds)
    per_minute = 60
    await platform.open_replica()
    feed = live_feed(settings)
    feeding = asyncio.create_task(feed.run(), name="live-feed")
    metrics = Metrics()

    def count_batch(done: BatchDone) -> None:
        metrics.count_batch(done.application, done.commands, done.outcomes(), done.events)

    platform.batch_observers.append(count_batch)
    try:
        orgs = await platform.committer(ORGS.name)
        users = await platform.committer(USERS.name)
        providers = await platform.committer(PROVIDERS.name)
        folders = await platform.committer(FOLDERS.name)
        albums = await platform.committer(ALBUMS.name)
        images = image_parts(platform, folders)
        album_keys = client_keys.PostgresClientKeys(platform.pool)
        app = build_app(
            ApiParts(
                pool=platform.reads,
                redis=platform.redis,
                kafka_admin=kafka_admin,
                authenticator=BearerAuthenticator(
                    tokens,
                    RedisAdmission(
                        platform.redis,
                        revocations,
                        {
                            "user": RedisRateLimit(
                                platform.redis,
                                settings.namespace,
                                settings.user_rate_limit,
                                per_minute,
                            ),
                            "images": RedisRateLimit(
                                platform.redis,
                                settings.namespace,
                                settings.image_rate_limit,
                                per_minute,
                            ),
                        },
                    ),
                    platform.reads,
                    settings.consistency_wait_seconds,
                ),
                auth_rate_limit=RedisRateLimit(
                    platform.redis, settings.namespace, settings.auth_rate_limit, per_minute
                ),
                cors_origins=settings.cors_origins,
                google_client_id=settings.google_client_id,
                identity=IdentityCommands(
                    platform.apps[USERS.name],
                    users,
                    google_verifier(settings.google_client_id, settings.google_certs_url),
                    revocations.revoke_session,
                    revocations.revoke_user,
                ),
                tokens=tokens,
                providers=ProviderCommands(providers, outbound_policy(settings)),
                storage=StorageCommands(folders),
                albums=AlbumCommands(
                    platform.apps[ALBUMS.name],
                    albums,
                    keys.invitation_key(platform.keys_dir),
                    StorageFolderOwners(platform.apps[FOLDERS.name]),
                    OrganizationStudioRoles(platform.apps[ORGS.name]),
                    RedisShareLinkCache(platform.redis, settings.namespace),
                    keys=album_keys,
                ),
                check_location=Locations(provider_config(settings)).check,
                orgs=OrganizationCommands(
                    orgs,
                    keys.invitation_key(platform.keys_dir),
                    timedelta(days=settings.invitation_days),
                ),
                history=EventHistory(
                    platform.apps,
                    ChainStore(
                        platform.pool, {s: events_table(a) for s, a in platform.apps.items()}
                    ),
                    OrganizationStudioRoles(platform.apps[ORGS.name]),
                    album_keys,
                ),
                asyncapi=lambda: asyncapi_document(
                    settings.kafka_bootstrap, API_VERSION, settings.topic_prefix
                ),
                required_workers=required_workers(),
                namespace=settings.namespace,
                metrics=metrics,
                max_body_bytes=settings.max_body_bytes,
                login_failures_per_account=settings.login_failures_per_account,
                consistency_wait_seconds=settings.consistency_wait_seconds,
                images=images,
                watermarks=StudioWatermarks(
                    orgs,
                    OrganizationStudioRoles(platform.apps[ORGS.name]),
                    StoredWatermarkImages(images.store),
                ),
                live=LiveParts(
                    feed,
                    StreamTokens(platform.redis, settings.namespace, settings.stream_token_seconds),
                    revocations,
                    settings.stream_heartbeat_seconds,
                    settings.stream_max_seconds,
                ),
            )
        )
        trusted = settings.trusted_proxy_list()
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            loop="none",
            # X-Forwarded-For only from the proxies we were told of: from anyone else it
            # would let a client pick the address its rate limits count against.
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted or None,
            timeout_graceful_shutdown=5,
        )
        server = _ApiServer(config)
        serving = asyncio.create_task(server.serve(sockets))
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            # stopping: answer the requests in flight (they may hold connections), then go
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=10)
            raise
    finally:
        platform.batch_observers.remove(count_batch)  # an API served again counts anew
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
        await kafka_admin.close()


def live_feed(settings: Settings) -> LiveFeed:
    """The process's one Kafka reader for live streams: the studios' own event topics (sync
    and render progress, albums, downloads, members)."""
    prefix = settings.topic_prefix
    return LiveFeed(
        settings.kafka_bootstrap,
        [prefix + stream.topic for stream in (ORGS, FOLDERS, ALBUMS, RENDITIONS, DOWNLOADS)],
        prefix + ALBUMS.topic,
        settings.stream_queue_size,
    )


class _ApiServer(uvicorn.Server):
    """Uvicorn without its own signal handlers: the process's handler stops every role."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_relay(platform: Platform) -> None:
    settings = platform.settings
    sources = [RelaySource(app, settings.topic_prefix) for app in platform.applications()]
    runs: list[Relay] = []

    async def run() -> None:
        # a stopped aiokafka producer cannot start again: every (re)start gets its own
        producer = make_producer(settings.kafka_bootstrap)
        runs.append(Relay(sources, platform.pool, producer, settings.relay_batch_size))
        await producer.start()
        try:
            await runs[-1].run()
        finally:
            await producer.stop()

    async def status() -> dict[str, Any]:
        lag = await runs[-1].lag() if runs else 0
        return {"lag": lag, "published": sum(r.published for r in runs)}

    await _supervised(platform, ("relay", "relay"), status, run)


async def run_projector(platform: Platform, name: str) -> None:
    projection = all_projections()[name]
    settings = platform.settings
    worker = ProjectionWorker(
        projection,
        platform.pool,
        settings.kafka_bootstrap,
        settings.projection_batch_size,
        await platform.message_policy(worker_name(name)),
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
    )

    async def status() -> dict[str, Any]:
        return {"lag": worker.lag(), "applied": worker.applied, "failure": worker.failure}

    await _supervised(platform, ("projector", name), status, worker.run, worker.stalled)


def _mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            password,
            settings.smtp_starttls,
            settings.mail_from,
        )
    return MailboxMailer(Path(settings.mailbox_dir), settings.mail_from)


async def sender_service(platform: Platform) -> SenderService:
    """The Sender's use cases, for its consumer and for replays of its parked messages."""
    digests = DigestReads(platform.pool)
    settings = platform.settings

    async def studio_name(org_id: UUID) -> str | None:
        async with platform.pool.acquire() as conn:
            name = await conn.fetchval("SELECT name FROM read.orgs WHERE org_id = $1", org_id)
        return str(name) if name else None

    committer = await platform.committer(DELIVERIES.name)
    return SenderService(
        committer,
        _mailer(settings),
        JinjaRenderer(),
        keys.invitation_key(platform.keys_dir),
        settings.public_url,
        RetryPolicy(
            settings.sender_max_attempts,
            settings.sender_retry_base_seconds,
            settings.sender_retry_max_seconds,
        ),
        studio_name=studio_name,
        album_info=AlbumMailFacts(platform.pool).lookup,
        album_comments=digests.comments,
        client_keys=client_keys.PostgresClientKeys(platform.pool),
        mail_domain=settings.mail_from.rpartition("@")[2].rstrip(">") or "photoflow.local",
    )


async def run_sender(platform: Platform) -> None:
    """Mail for the events that call for one, each sent once, and the client-activity digest."""
    settings = platform.settings
    digests = DigestReads(platform.pool)
    service = await sender_service(platform)
    consumer = SenderConsumer(
        service.handle,
        settings.kafka_bootstrap,
        await platform.message_policy("sender"),
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
        topics=(ORGS.topic, ALBUMS.topic),
        types=service.types,
    )

    async def status() -> dict[str, Any]:
        return {"lag": consumer.lag(), "handled": consumer.handled, "failure": consumer.failure}

    period = timedelta(seconds=settings.digest_seconds)

    async def run() -> None:
        await asyncio.gather(
            consumer.run(), digest_forever(service.handle, digests.albums_with_comments, period)
        )

    await _supervised(platform, ("sender", "sender"), status, run, consumer.stalled)


async def run_sync_worker(platform: Platform) -> None:
    """Syncs folders: on request, for albums (FullSyncStorage), and resumes interrupted ones."""
    settings = platform.settings
    storage = platform.apps[FOLDERS.name]
    sources = Sources(provider_config(settings), platform.apps[PROVIDERS.name])
    folder_sync = FolderSync(storage, sources.for_folder, batch_size=settings.sync_batch_size)
    committer = await platform.committer(FOLDERS.name)
    commands = StorageCommands(committer)
    worker = SyncWorker(
        folder_sync.run,
        lambda folder_id, actor, org_id: commands.start_sync(
            folder_id, "full", actor, for_org=org_id
        ),
        platform.pool,
        settings.kafka_bootstrap,
        await platform.message_policy("sync"),
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
        max_parallel=settings.sync_parallel,
    )

    async def status() -> dict[str, Any]:
        return {
            "lag": 0,
            "running": worker.running(),
            "completed": worker.completed,
            "ready": worker.ready,
            "failure": worker.failure,
        }

    await _supervised(platform, ("sync", "sync"), status, worker.run)


async def run_album_sync_manager(platform: Platform) -> None:
    """The ``album-sync`` role: brings albums up to date when their folder's sync completes
    (the process manager), and takes the albums' snapshots (``run_album_snapshotter``)."""
    await asyncio.gather(_run_album_sync(platform), run_album_snapshotter(platform))


async def run_album_snapshotter(platform: Platform) -> None:
    """Snapshots large albums as the albums topic says they grow, out of the API process: a
    15,000-photo album's snapshot is half a second of CPU (see ``commands.album_snapshots``)."""
    settings = platform.settings
    snapshotter = AlbumSnapshotter(
        platform.apps[ALBUMS.name],
        settings.kafka_bootstrap,
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
    )

    async def status() -> dict[str, Any]:
        return {
            "lag": snapshotter.lag(),
            "read": snapshotter.read,
            "taken": snapshotter.taken,
            "failure": snapshotter.failure,
        }

    await _supervised(
        platform,
        ("album-snapshots", "album-snapshots"),
        status,
        snapshotter.run,
        snapshotter.stalled,
    )


async def _run_album_sync(platform: Platform) -> None:
    """The album process manager alone, woken by folder syncs that complete."""
    settings = platform.settings
    app = platform.apps[ALBUMS.name]
    reads = AlbumSyncReads(platform.pool)
    committer = await platform.committer(ALBUMS.name)
    link_key = keys.invitation_key(platform.keys_dir)
    albums = AlbumCommands(
        app,
        committer,
        link_key,
        StorageFolderOwners(platform.apps[FOLDERS.name]),
        OrganizationStudioRoles(platform.apps[ORGS.name]),
        keys=client_keys.PostgresClientKeys(platform.pool),
    )
    manager = AlbumSyncManager(albums, reads.ready, reads.files)

    trigger = AlbumSyncTrigger(
        manager,
        settings.kafka_bootstrap,
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
    )

    async def status() -> dict[str, Any]:
        return {"lag": 0, "updated": manager.updated, "failure": trigger.failure}

    await _supervised(platform, ("album-sync", "album-sync"), status, trigger.run)


def originals(platform: Platform) -> Originals:
    """Reads original files where their folders live, with the studio's credentials."""
    settings = platform.settings
    providers = platform.apps[PROVIDERS.name]

    async def credentials(org_id: UUID, kind: str) -> dict[str, str] | None:
        return await asyncio.to_thread(provider_credentials, providers, org_id, kind)

    return Originals(
        settings.local_root_paths(),
        credentials,
        allowance(settings),
        drive_api_url=settings.drive_api_url,
        google_token_uri=settings.google_token_uri,
    )


def image_parts(platform: Platform, storage: GroupCommitter) -> ImageParts:
    """The image and download routes' parts; downloads are recorded in Storage's store."""
    downloads = DownloadCommands(storage, client_keys.PostgresClientKeys(platform.pool))
    store = _rendition_store(platform)
    return ImageParts(store, originals(platform), downloads.record, WatermarkedPreviews(store))


def _rendition_store(platform: Platform) -> RenditionStore:
    """The directory or bucket of ``PHOTOFLOW_RENDITIONS_URL``; a bucket's client is closed
    with the platform."""
    store = rendition_store(platform.settings)
    if isinstance(store, S3RenditionStore):
        platform.stack.push_async_callback(store.aclose)
    return store


async def render_service(platform: Platform) -> RenderService:
    """The render use case, for its worker and for replays of its parked messages."""
    settings = platform.settings
    storage = platform.apps[FOLDERS.name]
    places: dict[UUID, FolderPlace] = {}

    async def place(folder_id: UUID) -> FolderPlace:
        if folder_id not in places:  # a folder's provider and location never change
            folder: Folder = await asyncio.to_thread(storage.repository.get, folder_id)
            places[folder_id] = FolderPlace(folder.provider, folder.location, folder.org_id)
        return places[folder_id]

    return RenderService(
        _rendition_store(platform),
        originals(platform),
        place,
        await platform.committer(FOLDERS.name),
        settings.render_parallel,
    )


async def run_render_worker(platform: Platform) -> None:
    """Thumbnails and previews of every file a sync records (see ``commands.rendering``)."""
    settings = platform.settings
    service = await render_service(platform)
    worker = RenderWorker(
        service.render_files,
        settings.kafka_bootstrap,
        await platform.message_policy("render"),
        namespace=settings.namespace,
        topic_prefix=settings.topic_prefix,
    )

    async def status() -> dict[str, Any]:
        return {
            "lag": worker.lag(),
            "rendered": service.rendered,
            "reused": service.reused,
            "failed": service.failed,
            "failure": worker.failure,
        }

    try:
        await _supervised(platform, ("render", "render"), status, worker.run, worker.stalled)
    finally:
        service.close()


Status = Callable[[], Awaitable[dict[str, Any]]]


async def _supervised(
    platform: Platform,
    worker: tuple[str, str],
    status: Status,
    run: Callable[[], Coroutine[Any, Any, None]],
    stalled: Callable[[float], bool] | None = None,
) -> None:
    """Run a worker under ``supervise``, its heartbeat saying how it fares, until cancelled."""
    settings = platform.settings
    state = WorkerState()
    label = worker_label(*worker)

    async def reported() -> dict[str, Any]:
        try:
            own = await status()
        except Exception as error:  # a dependency is down: the heartbeat still goes out
            own = {"lag": None, "failure": f"{type(error).__name__}: {error}"}
        return {
            **own,
            "restarting": state.restarting,
            "restarts": state.restarts,
            "last_failure": state.last_failure,
        }

    beat = asyncio.create_task(
        beat_forever(
            platform.redis,
            settings.namespace,
            worker,
            platform.instance,
            reported,
            settings.heartbeat_seconds,
        )
    )
    watchdog = (
        Watchdog(stalled, platform.postgres_answers, settings.watchdog_seconds)
        if stalled is not None
        else None
    )
    try:
        await supervise(label, run, state, watchdog)
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)


async def run_everything(platform: Platform) -> None:
    """API, relay and every worker in one process: the embedded default of ``make run``.

    Each worker restarts itself after a failure; this returns only when cancelled (SIGTERM or
    SIGINT), or when the API cannot serve at all (its port taken).
    """
    tasks = [
        asyncio.create_task(serve_api(platform), name="api"),
        asyncio.create_task(run_relay(platform), name="relay"),
        asyncio.create_task(run_sender(platform), name="sender"),
        asyncio.create_task(run_sync_worker(platform), name="sync"),
        asyncio.create_task(run_album_sync_manager(platform), name="album-sync"),
        asyncio.create_task(run_render_worker(platform), name="render"),
        *(
            asyncio.create_task(run_projector(platform, n), name=f"projector:{n}")
            for n in all_projections()
        ),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
