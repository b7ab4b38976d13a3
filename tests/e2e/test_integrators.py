"""What an integrator reads on Kafka: every event valid against the AsyncAPI document, with the
CloudEvents headers, and the consumer example of the README working against the platform."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from broker.topics import INTEGRATION_TOPICS, STREAMS, dead_letter_topic
from commands.organizations import invitation_token
from infra.demo_photos import generate
from infra.keys import invitation_key
from tests.e2e.conftest import Running
from tests.support.accounts import Account, sign_in
from tests.support.kafka import Message, read_topic
from tests.support.waiting import eventually
from tests.support.world import REPO

DOCUMENT_URI = "urn:photoflow:asyncapi"
TOPICS = [s.topic for s in STREAMS.values()] + list(INTEGRATION_TOPICS)
S3 = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3-SECRET-1", "region": "eu-west-1"}
# The workflow below records at least these (a named event per step, whatever else it records).
WORKFLOW_TYPES = {
    "OrganizationCreated",
    "OrganizationRenamed",
    "OrganizationInvitationSent",
    "OrganizationMemberAdded",
    "OrganizationInvitationAccepted",
    "OrganizationMemberRoleChanged",
    "OrganizationMemberRemoved",
    "DeliveryQueued",
    "DeliverySent",
    "UserRegistered",
    "UserSignedIn",
    "UserTokenRotated",
    "UserSessionRevoked",
    "ProviderSettingsConfigured",
    "FolderRegistered",
    "FolderSyncStarted",
    "FolderFilesDiscovered",
    "FolderSyncCompleted",
    "FullSyncStorage",
    "StorageFolderSyncCompleted",
    "AlbumCreated",
    "AlbumSyncRequested",
    "AlbumPhotosAdded",
    "AlbumSyncFinished",
    "AlbumShared",
    "AlbumPhotoSelected",
    "AlbumPhotoDeselected",
    "AlbumPhotoRated",
    "AlbumCommentAdded",
    "AlbumSelectionSubmitted",
    "AlbumEditingStarted",
    "AlbumProcStatusSet",
    "AlbumDelivered",
    "AlbumChangesRequested",
    "AlbumApproved",
    "AlbumTagged",
    "AlbumUntagged",
    "AlbumArchived",
    "AlbumReopened",
    "OrganizationInvitationRevoked",
}


@dataclass
class Client:
    """One account driving the API, keeping the last consistency token for its next read."""

    running: Running
    account: Account
    token: str = ""

    async def call(
        self, method: str, path: str, body: Any = None, status: int = 200
    ) -> dict[str, Any]:
        headers = {**self.account.headers}
        if self.token:
            headers["X-Consistency-Token"] = self.token
        answer = await self.running.http.request(method, path, json=body, headers=headers)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json() if answer.content else {}
        self.token = str(result.get("consistency_token") or self.token)
        return result

    async def delete(self, path: str) -> None:
        headers = {**self.account.headers, "X-Consistency-Token": self.token}
        answer = await self.running.http.delete(path, headers=headers)
        assert answer.status_code in (200, 204), (
            f"DELETE {path}: {answer.status_code} {answer.text}"
        )
        if answer.content and "consistency_token" in answer.json():
            self.token = str(answer.json()["consistency_token"])


@dataclass(frozen=True)
class Workflow:
    org_id: str
    album_id: str


@pytest.fixture(scope="module")
async def workflow(running: Running) -> Workflow:
    """A studio's whole life once: members, a provider, a folder, an album from sync to approval."""
    http = running.http
    owner = Client(running, await running.account())
    org_id = str((await owner.call("POST", "/api/orgs", {"name": "Integrators"}, 201))["org_id"])
    await owner.call("PATCH", f"/api/orgs/{org_id}", {"name": "Integrators Two"})
    member = await running.account()
    invited = await owner.call(
        "POST", f"/api/orgs/{org_id}/invitations", {"email": member.email, "role": "viewer"}, 201
    )
    joined = await http.post(
        f"/api/invitations/{invitation_link(org_id, invited['invitation_id'])}/accept",
        headers=member.headers,
    )
    assert joined.status_code == 200, joined.text
    owner.token = joined.json()["consistency_token"]
    await owner.call("PATCH", f"/api/orgs/{org_id}/members/{member.user_id}", {"role": "admin"})
    await owner.delete(f"/api/orgs/{org_id}/members/{member.user_id}")
    await owner.call("PUT", f"/api/orgs/{org_id}/providers/s3", S3)
    await owner.call("PUT", f"/api/orgs/{org_id}/providers/s3", {**S3, "region": "eu-west-3"})
    await owner.delete(f"/api/orgs/{org_id}/providers/s3")
    dropped = await owner.call(
        "POST",
        f"/api/orgs/{org_id}/invitations",
        {"email": "late@example.com", "role": "viewer"},
        201,
    )
    await owner.delete(f"/api/orgs/{org_id}/invitations/{dropped['invitation_id']}")
    second_session = await sign_in(http, owner.account.email)
    refreshed = await http.post(
        "/api/auth/refresh", json={"refresh_token": second_session.refresh_token}
    )
    assert refreshed.status_code == 200
    out = await http.post(
        "/api/auth/logout", json={"refresh_token": refreshed.json()["refresh_token"]}
    )
    assert out.status_code == 204

    folder_path = running.world.photos / uuid.uuid4().hex[:8]
    generate(folder_path, count=4)
    folder = await owner.call(
        "POST",
        f"/api/orgs/{org_id}/storage/folders",
        {"provider": "local", "location": str(folder_path), "name": "Shoot"},
        201,
    )
    album_id = str(
        (
            await owner.call(
                "POST",
                f"/api/orgs/{org_id}/albums",
                {
                    "title": "Integrated",
                    "folder_id": folder["folder_id"],
                    "client": {"name": "Ines Client", "email": "ines@example.com"},
                },
                201,
            )
        )["album_id"]
    )
    album = f"/api/albums/{album_id}"
    await owner.call("POST", f"{album}/sync", status=202)

    async def status() -> str:
        return str((await owner.call("GET", album))["status"])

    await eventually(status, lambda s: s == "ready", timeout=60, what="album synced")
    photos = (await owner.call("GET", f"{album}/photos"))["items"]
    await owner.call("POST", f"{album}/tags", {"tag": "wedding"})
    await owner.call("POST", f"{album}/tags", {"tag": "draft-look"})
    await owner.delete(f"{album}/tags/draft-look")
    share = (await owner.call("POST", f"{album}/share", {"allow_download": True}))["share_token"]
    guest = f"/api/share/{share}"
    for photo in photos[:3]:
        assert (await http.post(f"{guest}/photos/{photo['photo_id']}/select")).status_code == 200
    await http.post(f"{guest}/photos/{photos[2]['photo_id']}/deselect")
    await http.post(f"{guest}/photos/{photos[0]['photo_id']}/rating", json={"rating": 4})
    await http.post(f"{guest}/photos/{photos[1]['photo_id']}/comments", json={"text": "Crop?"})
    assert (await http.post(f"{guest}/submit")).status_code == 200
    await owner.call("POST", f"{album}/start-editing")
    await owner.call("POST", f"{album}/photos/{photos[0]['photo_id']}/proc", {"status": "edited"})
    await owner.call("POST", f"{album}/deliver")
    asked = await http.post(f"{guest}/request-changes", json={"text": "Brighter"})
    assert asked.status_code == 200, asked.text
    await owner.call("POST", f"{album}/start-editing")
    await owner.call("POST", f"{album}/deliver")
    assert (await http.post(f"{guest}/approve")).status_code == 200
    await owner.call("POST", f"{album}/archive")
    await owner.call("POST", f"{album}/reopen")
    await owner.delete(f"{album}/share")
    return Workflow(org_id, album_id)


def invitation_link(org_id: str, invitation_id: str) -> str:
    return invitation_token(
        invitation_key(REPO / "var" / "keys"), uuid.UUID(org_id), uuid.UUID(invitation_id)
    )


class Published(dict[str, list[Message]]):
    """Messages per topic; shown by what is still missing, should the wait for them fail."""

    def types(self) -> set[str]:
        return {str(m.envelope.get("type")) for messages in self.values() for m in messages}

    def __repr__(self) -> str:
        return f"still missing: {sorted(WORKFLOW_TYPES - self.types())}"


async def everything_published(running: Running, workflow: Workflow) -> dict[str, list[Message]]:
    """Every topic read back, once each step of the workflow has reached Kafka."""
    bootstrap = running.world.settings.kafka_bootstrap

    async def read_all() -> Published:
        return Published(
            {
                topic: await read_topic(bootstrap, running.world.topic(topic))
                for topic in TOPICS + [dead_letter_topic(t) for t in TOPICS]
            }
        )

    def complete(read: Published) -> bool:
        ours = {
            str(m.envelope.get("type"))
            for m in read["photoflow.album"]
            if m.envelope.get("aggregate_id") == workflow.album_id
        }
        return "AlbumShareRevoked" in ours and read.types() >= WORKFLOW_TYPES

    return await eventually(read_all, complete, timeout=60, what="the workflow relayed")


def validator(document: dict[str, Any], pointer: str) -> Draft7Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT7)
    )
    return Draft7Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=FormatChecker()
    )


async def test_every_event_on_kafka_is_valid_against_its_asyncapi_message(
    running: Running, workflow: Workflow
) -> None:
    document = (await running.http.get("/api/asyncapi.json")).json()
    messages = document["components"]["messages"]
    payloads = {
        name: validator(document, f"/components/messages/{name}/payload") for name in messages
    }
    headers = {
        name: validator(document, f"/components/messages/{name}/headers") for name in messages
    }
    seen: set[str] = set()
    for topic, read in (await everything_published(running, workflow)).items():
        channel = document["channels"][topic]
        assert channel["address"] == running.world.topic(topic)
        for m in read:
            where = f"{topic}[{m.partition}]@{m.offset}"
            sent = {k: v.decode() for k, v in m.headers.items()}
            if topic.endswith(".dlt"):
                assert {"dlt_worker", "dlt_error", "dlt_topic"} <= set(sent), where
                continue
            kind = str(m.envelope["type"])
            assert kind in channel["x-event-types"], f"{where}: {kind} is not documented here"
            errors = [e.message for e in payloads[kind].iter_errors(m.envelope)]
            assert not errors, f"{where} {kind}: {errors[:3]}"
            errors = [e.message for e in headers[kind].iter_errors(sent)]
            assert not errors, f"{where} {kind} headers: {errors[:3]}"
            assert_cloudevents(sent, m.envelope, where)
            seen.add(kind)
    assert seen >= WORKFLOW_TYPES, f"never published: {sorted(WORKFLOW_TYPES - seen)}"


def assert_cloudevents(sent: dict[str, str], envelope: dict[str, Any], where: str) -> None:
    """The CloudEvents Kafka binding's attributes, and the contract's own two headers."""
    assert sent["ce_specversion"] == "1.0", where
    assert sent["ce_id"] == sent["id"] == envelope["id"], where
    assert sent["type"] == envelope["type"], where
    assert sent["ce_type"] == f"dev.photoflow.{envelope['type']}.v{envelope['schema']}", where
    assert sent["ce_source"] == f"/photoflow/{envelope['stream']}/{envelope['aggregate_id']}"
    assert datetime.fromisoformat(sent["ce_time"]) == datetime.fromisoformat(
        str(envelope["occurred_at"])
    ), where
    assert datetime.fromisoformat(sent["ce_time"]).utcoffset() is not None, where
    assert sent["content-type"] == "application/json", where


async def test_the_consumer_example_sees_the_selection_submitted(
    running: Running, workflow: Workflow
) -> None:
    await everything_published(running, workflow)
    settings = running.world.settings
    example = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "examples/consume_albums.py",
            "--bootstrap",
            settings.kafka_bootstrap,
            "--topic-prefix",
            settings.topic_prefix,
            "--group",
            f"example-{uuid.uuid4().hex[:8]}",
            "--exit-when-idle",
            "8",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert example.returncode == 0, example.stderr
    [line] = [ln for ln in example.stdout.splitlines() if f"album={workflow.album_id}" in ln]
    assert line.startswith("SelectionSubmitted") and line.endswith("-> start editing")
    assert f"studio={workflow.org_id}" in line and "photos=2" in line
    assert "ce_type=dev.photoflow.AlbumSelectionSubmitted.v" in line
