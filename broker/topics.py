"""Which aggregate's events go to which topic, and the integration topics between contexts.

This table is the contract's Kafka section in code: the audit routes, the relay and the
projections all look streams up here rather than spelling topic names themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID

from eventsourcing import domain as eventsourcing_domain
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent

from domains.album import Album
from domains.delivery import Delivery
from domains.download import Download
from domains.folder import Folder
from domains.organization import Organization
from domains.provider import ProviderSettings
from domains.rendition import Renditions
from domains.user import User

OrgIdOf = Callable[[AggregateEvent], UUID | None]

DLT_SUFFIX = ".dlt"
# aggregate class -> the created event classes it really records (eventsourcing's own registry)
_CREATED_EVENTS: dict[type, list[type]] = getattr(
    eventsourcing_domain, "_created_event_classes", {}
)


def dead_letter_topic(topic: str) -> str:
    """Where the consumers of ``topic`` park what they could never apply (broker.parking)."""
    return topic + DLT_SUFFIX


@dataclass(frozen=True)
class EventStream:
    """One aggregate type's events: its audit name, its topic and how to find its studio."""

    name: str
    topic: str
    aggregate: type[Aggregate]
    org_id_of: OrgIdOf
    description: str


def _own_id(event: AggregateEvent) -> UUID | None:
    return event.originator_id


ORGS = EventStream(
    name="orgs",
    topic="organization.org",
    aggregate=Organization,
    org_id_of=_own_id,
    description="Every domain event of the Organization aggregate (studios).",
)


def _no_org(event: AggregateEvent) -> UUID | None:
    return None


USERS = EventStream(
    name="users",
    topic="identity.user",
    aggregate=User,
    org_id_of=_no_org,
    description="Every domain event of the User aggregate: accounts, sign-ins, sessions.",
)


def _org_field(event: AggregateEvent) -> UUID | None:
    """For aggregates whose events name their studio themselves."""
    org_id = getattr(event, "org_id", None)
    return org_id if isinstance(org_id, UUID) else None


PROVIDERS = EventStream(
    name="providers",
    topic="provider.settings",
    aggregate=ProviderSettings,
    org_id_of=_org_field,
    description="A studio's provider settings changed (public fields only; never secrets).",
)

DELIVERIES = EventStream(
    name="deliveries",
    topic="sender.delivery",
    aggregate=Delivery,
    org_id_of=_org_field,
    description="Every event of the Sender's Delivery aggregate: queued, sent, failed, given "
    "up (org_id is set on DeliveryQueued).",
)

FOLDERS = EventStream(
    name="folders",
    topic="storage.folder",
    aggregate=Folder,
    org_id_of=_org_field,
    description="Every domain event of the Folder aggregate: registration, syncs, file batches.",
)

ALBUMS = EventStream(
    name="albums",
    topic="photoflow.album",
    aggregate=Album,
    org_id_of=_org_field,
    description="Every domain event of the Album aggregate: workflow, photos, picks, comments.",
)

STREAMS: dict[str, EventStream] = {
    stream.name: stream for stream in (ORGS, USERS, PROVIDERS, DELIVERIES, FOLDERS, ALBUMS)
}
_BY_AGGREGATE: dict[str, EventStream] = {s.aggregate.__qualname__: s for s in STREAMS.values()}

FULL_SYNC_STORAGE = "photoflow.full-sync-storage"
FOLDER_SYNC_PROGRESS = "storage.folder-sync-progress"
FOLDER_SYNC_COMPLETED = "storage.folder-sync-completed"
INTEGRATION_TOPICS: dict[str, str] = {
    FULL_SYNC_STORAGE: "FullSyncStorage: Photoflow asks Storage for a full sync of a folder.",
    FOLDER_SYNC_PROGRESS: "StorageFolderSyncProgress: Storage reports a running sync's counts.",
    FOLDER_SYNC_COMPLETED: "StorageFolderSyncCompleted: a sync finished, with counts and cursor.",
}


# Domain events that other contexts react to are also published, renamed, on the contract's
# integration topics: the relay writes both, from the one recorded event.
INTEGRATION_EVENTS: dict[str, tuple[str, str]] = {
    "AlbumSyncRequested": (FULL_SYNC_STORAGE, "FullSyncStorage"),
    "FolderSyncProgressed": (FOLDER_SYNC_PROGRESS, "StorageFolderSyncProgress"),
    "FolderSyncCompleted": (FOLDER_SYNC_COMPLETED, "StorageFolderSyncCompleted"),
    "FolderSyncFailed": (FOLDER_SYNC_COMPLETED, "StorageFolderSyncFailed"),
}


def stream_of(event: AggregateEvent) -> EventStream | None:
    """The stream an event belongs to, or None for internal aggregates (such as indexes)."""
    owner = type(event).__qualname__.rpartition(".")[0]
    return _BY_AGGREGATE.get(owner)


def all_topics() -> list[str]:
    """Every topic, each with its dead-letter twin ``<topic>.dlt`` for parked messages."""
    topics = [s.topic for s in STREAMS.values()] + list(INTEGRATION_TOPICS)
    return topics + [t + DLT_SUFFIX for t in topics]


def planned_partitions(default: int, overrides: Mapping[str, int]) -> dict[str, int]:
    """Every topic's number of partitions: ``overrides`` by topic name, else ``default``.

    A name that is no topic is refused (ValueError naming it and the topics there are), so a
    typo in ``PHOTOFLOW_TOPIC_PARTITIONS`` stops the start instead of being ignored.
    """
    topics = all_topics()
    unknown = sorted(set(overrides) - set(topics))
    if unknown:
        raise ValueError(
            f"PHOTOFLOW_TOPIC_PARTITIONS names no topic: {', '.join(unknown)}; "
            f"the topics are {', '.join(t for t in topics if not t.endswith(DLT_SUFFIX))} "
            f"and their {DLT_SUFFIX} twins"
        )
    return {topic: overrides.get(topic, default) for topic in topics}


def event_classes(aggregate: type[Aggregate]) -> list[type[AggregateEvent]]:
    """The event types an aggregate records, found on the class itself, in declaration order.

    Reflection rather than a list, so that a new or renamed event class is published and
    documented (broker.asyncapi) the moment it exists. Left out, as no event of theirs is ever
    recorded: the aggregate's ``Event`` base, any base that only groups other events, and the
    ``Created`` class the library defines on every aggregate whose own created event has another
    name (``User.Registered``); the library's registry of the created events each aggregate
    really uses says which.
    """
    found = [
        value
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, AggregateEvent)
        and value.__qualname__ == f"{aggregate.__qualname__}.{name}"
    ]
    created = _CREATED_EVENTS.get(aggregate)
    return [
        cls
        for cls in found
        if not any(other is not cls and issubclass(other, cls) for other in found)
        and (created is None or not issubclass(cls, AggregateCreated) or cls in created)
    ]


# Streams added with renditions and downloads (issue 10), registered like the ones above.
RENDITIONS = EventStream(
    name="renditions",
    topic="storage.rendition",
    aggregate=Renditions,
    org_id_of=_org_field,
    description="Render progress: each batch of a folder's files whose thumbnail and preview "
    "became ready (keyed by checksum), or could not be rendered, with the reason.",
)
DOWNLOADS = EventStream(
    name="downloads",
    topic="photoflow.download",
    aggregate=Download,
    org_id_of=_org_field,
    description="A share link's client downloaded originals: one photo, or a ZIP of the "
    "selection or the whole album.",
)
for _added in (RENDITIONS, DOWNLOADS):
    STREAMS[_added.name] = _added
    _BY_AGGREGATE[_added.aggregate.__qualname__] = _added
