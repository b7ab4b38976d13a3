"""Crypto-shredding: the client's and guests' personal data sealed with the client's key.

The pure rules (seal, open, a guest's stable identity, the forgotten stand-ins), the album
recording only sealed values, and forgetting through the use case with an in-memory key store.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.application import Application

from broker.asyncapi import asyncapi_document
from broker.envelope import Envelope
from commands.albums import AlbumCommands, AlbumsApplication
from commands.client_keys import MemoryClientKeys
from commands.group_commit import GroupCommitter
from commands.history import EventHistory
from commands.sender import OutgoingMail, SenderApplication, SenderService
from domains.album import Album, NewAlbum, photo_id_for
from domains.album_actors import Guest, Member
from domains.album_state import audit_state, open_audit_state
from domains.delivery import Delivery
from domains.errors import NotFound, RuleBroken
from domains.personal_data import (
    FORGOTTEN,
    ClientKey,
    forgotten_guest,
    is_sealed,
    open_actor,
    open_data,
    open_guest,
    open_text,
)
from domains.policies import Forbidden, Role
from infra.mail import JinjaRenderer
from tests.unit.test_album_commands import FakeStudios, NoFolders

KEY = ClientKey(bytes(range(32)))
OTHER = ClientKey(bytes(32))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_sealed_text_opens_with_its_key_and_reads_as_forgotten_without() -> None:
    sealed = KEY.seal("anna@example.com")
    assert is_sealed(sealed) and "anna" not in sealed
    assert KEY.open(sealed) == "anna@example.com"
    assert open_text(sealed, KEY) == "anna@example.com"
    assert open_text(sealed, None) == FORGOTTEN
    assert open_text("plain, recorded before sealing", None) == "plain, recorded before sealing"


def test_the_documented_format_opens_with_plain_aes_gcm() -> None:
    """What the AsyncAPI document tells a consumer holding the key: base64url, nonce first."""
    sealed = KEY.seal("Ben")
    raw = base64.urlsafe_b64decode(sealed.removeprefix("pd1:") + "==")
    assert AESGCM(KEY.secret).decrypt(raw[:12], raw[12:], None) == b"Ben"


def test_a_guest_seals_to_the_same_identity_every_time_and_only_under_its_key() -> None:
    assert KEY.seal("anna") == KEY.seal("anna") != KEY.seal("ben")
    assert OTHER.seal("anna") != KEY.seal("anna")
    assert open_text(OTHER.seal("anna"), KEY) == OTHER.seal("anna")  # not ours: left as it is


def test_forgotten_guests_stay_apart_and_name_nobody() -> None:
    anna, ben = KEY.seal("anna"), KEY.seal("ben")
    assert open_guest(anna, None) == forgotten_guest(anna) != forgotten_guest(ben)
    assert "anna" not in forgotten_guest(anna)
    assert open_actor(f"client:{anna}", KEY) == "client:anna"
    assert open_actor(f"client:{anna}", None) == f"client:{forgotten_guest(anna)}"
    member = str(uuid4())
    assert open_actor(member, None) == member


def test_event_data_opens_field_by_field() -> None:
    created = {"title": "Wedding", "client": {"name": KEY.seal("Ann"), "email": KEY.seal("a@x")}}
    assert open_data("AlbumCreated", created, KEY)["client"] == {"name": "Ann", "email": "a@x"}
    gone = open_data("AlbumCreated", created, None)
    assert gone == {"title": "Wedding", "client": {"name": FORGOTTEN, "email": FORGOTTEN}}
    comment = {"author": f"client:{KEY.seal('Ann')}", "text": KEY.seal("warmer")}
    assert open_data("AlbumCommentAdded", comment, KEY) == {
        "author": "client:Ann",
        "text": "warmer",
    }


def shared_album() -> Album:
    album = Album.create(uuid4(), NewAlbum("W", "Ann", "ann@example.com", uuid4()), "p", key=KEY)
    album.request_sync("p")
    album.update_photos([("a.jpg", "a.jpg"), ("b.jpg", "b.jpg")])
    album.share("n", "h", None, False, "p", NOW)
    return album


def test_the_album_records_the_client_and_its_guests_only_sealed() -> None:
    album = shared_album()
    photo = photo_id_for(album.id, "a.jpg")
    album.select(photo, "Zoe Guest", key=KEY)
    album.select(photo, "Zoe Guest", key=KEY)  # the same guest: nothing more
    album.rate(photo, "Max Guest", 4, "red", key=KEY)
    album.comment(photo, uuid4(), "Zoe Guest", "Too dark", key=KEY)
    album.submit("Zoe Guest", key=KEY)
    app: Application[object] = Application()
    stored = b"".join(app.mapper.to_stored_event(e).state for e in album.collect_events())
    for personal in (b"Ann", b"ann@example.com", b"Zoe", b"Max", b"Too dark"):
        assert personal not in stored
    assert album.photos[photo].picked_by == {KEY.seal("Zoe Guest")}
    state = open_audit_state(audit_state(album), KEY)
    assert state["client"] == {"name": "Ann", "email": "ann@example.com"}
    row = next(p for p in state["photos"] if p["photo_id"] == photo)
    assert row["picked_by"] == ["Zoe Guest"] and list(row["ratings"]) == ["Max Guest"]


def test_a_forgotten_client_records_nothing_more_and_its_link_dies() -> None:
    album = shared_album()
    photo = photo_id_for(album.id, "a.jpg")
    album.select(photo, "Zoe", key=KEY)
    assert album.forget_client("owner") is True
    assert album.forget_client("owner") is False  # recorded once
    with pytest.raises(NotFound):
        album.check_share("h", NOW)
    with pytest.raises(RuleBroken):
        album.comment(photo, uuid4(), "Zoe", "hello", key=KEY)
    with pytest.raises(RuleBroken):
        album.share("n2", "h2", None, False, "p", NOW)
    state = open_audit_state(audit_state(album), None)
    assert state["client"] == {"name": FORGOTTEN, "email": FORGOTTEN}
    assert state["client_forgotten"] is True and state["selection_count"] == 1
    assert state["photos"][0]["picked_by"] == [forgotten_guest(KEY.seal("Zoe"))]


async def test_forgetting_destroys_the_key_and_the_audit_reads_forgotten() -> None:
    app = AlbumsApplication()
    owner, photographer, org_id = Member(uuid4()), Member(uuid4()), uuid4()
    studios = FakeStudios({org_id: {owner.user_id: Role.OWNER}})
    studios.roles[org_id][photographer.user_id] = Role.PHOTOGRAPHER
    keys = MemoryClientKeys()
    async with GroupCommitter(app) as committer:
        albums = AlbumCommands(app, committer, b"k" * 32, NoFolders(), studios, keys=keys)
        created = await albums.create(org_id, NewAlbum("A", "Ann", "ann@x.io"), owner)
        album_id = created.aggregate_id
        history = EventHistory({"albums": app}, keys=keys)
        [first] = await history.events("albums", album_id, 0, 10)
        assert first["data"]["client"] == {"name": "Ann", "email": "ann@x.io"}
        with pytest.raises(Forbidden):
            await albums.forget_client(album_id, photographer)
        forgotten = await albums.forget_client(album_id, owner, created.version)
        assert forgotten.version == created.version + 1
        assert await keys.key_of(album_id) is None
        again = await albums.forget_client(album_id, owner)  # repeatable, records nothing
        assert again.version == forgotten.version
        first, last = await history.events("albums", album_id, 0, 10)
        assert first["data"]["client"] == {"name": FORGOTTEN, "email": FORGOTTEN}
        assert last["type"] == "AlbumClientForgotten"
        state = await history.state("albums", album_id, None, None)
        assert state["state"]["client"]["email"] == FORGOTTEN
        with pytest.raises(NotFound):
            await albums.select(Guest(f"{album_id}.nothing", "Zoe"), uuid4())


def test_the_asyncapi_document_names_the_sealed_fields_and_its_examples_open() -> None:
    doc = asyncapi_document("kafka:9092", "test")
    messages = doc["components"]["messages"]
    assert messages["AlbumCreated"]["x-sealed-fields"] == ["data.client.name", "data.client.email"]
    assert messages["AlbumPhotoSelected"]["x-sealed-fields"] == ["data.guest", "actor"]
    assert "x-sealed-fields" not in messages["AlbumTagged"]
    sealed = doc["components"]["schemas"]["SealedText"]
    key = ClientKey(bytes.fromhex(sealed["x-example-key"]))
    example = messages["AlbumCommentAdded"]["examples"][0]["payload"]
    assert open_data("AlbumCommentAdded", example["data"], key)["author"] == "client:example guest"
    assert open_actor(example["actor"], key) == "client:example guest"
    assert "AES-256-GCM" in sealed["description"]


class Outbox:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


async def test_the_sender_mails_the_client_while_its_key_exists_and_records_it_sealed() -> None:
    album_id, keys = uuid4(), MemoryClientKeys()
    await keys.put(album_id, KEY)
    facts = {
        "title": "Wedding",
        "client_name": "Ann Client",
        "client_email": "ann@example.com",
        "photographer_email": "photo@example.com",
        "selection_count": 2,
        "share_nonce": "n",
    }

    async def album_info(_: object, __: int) -> dict[str, object]:
        return facts

    app, outbox = SenderApplication(), Outbox()
    delivered = Envelope.model_validate(
        {
            "id": uuid4(),
            "type": "AlbumDelivered",
            "stream": "albums",
            "aggregate_id": album_id,
            "version": 9,
            "org_id": uuid4(),
            "occurred_at": NOW,
            "schema": 1,
            "actor": "u1",
            "data": {},
        }
    )
    async with GroupCommitter(app) as committer:
        sender = SenderService(
            committer,
            outbox,
            JinjaRenderer(),
            b"k" * 32,
            "http://x",
            album_info=album_info,
            client_keys=keys,
        )
        await sender.handle(delivered)
    assert [m.recipient for m in outbox.sent] == ["ann@example.com"]
    recorded = b"".join(n.state for n in app.notification_log.select(1, 10))
    assert b"ann@example.com" not in recorded and b"Ann Client" not in recorded
    delivery_id = Delivery.create_id(delivered.id, KEY.seal("ann@example.com"))
    queued = next(iter(app.events.get(delivery_id)))
    assert KEY.open(vars(queued)["recipient"]) == "ann@example.com"
