"""The demo studio ``make run`` seeds on first start, so a newcomer can try every route at once.

It is made through the same use cases a person would run (register, create a studio, bind the
sample-photo folder, sync it). What it made is remembered in ``var/demo.json``, so the next
start only prints it again.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from commands.albums import AlbumCommands, NewAlbum
from commands.group_commit import GroupCommitter
from commands.identity import EmailTaken, GoogleIdentity, IdentityCommands
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from domains.album import Album
from domains.album_actors import Member
from domains.album_workflow import SYNCING
from infra import keys
from infra.bootstrap import Platform
from infra.client_keys import PostgresClientKeys
from infra.demo_photos import generate
from infra.folder_owners import StorageFolderOwners
from infra.studio_roles import OrganizationStudioRoles

DEMO_EMAIL = "demo@photoflow.local"
DEMO_PASSWORD = "photoflow-demo"


async def seed_demo(platform: Platform) -> dict[str, str]:
    settings = platform.settings
    marker = Path(settings.demo_photos_dir).resolve().parent / "demo.json"
    photos = Path(settings.demo_photos_dir).resolve()
    generate(photos)
    if marker.exists():
        seeded: dict[str, str] = json.loads(marker.read_text())
        _announce(seeded, settings.public_url)
        return seeded
    users = await platform.committer("users")
    orgs = await platform.committer("orgs")
    folders = await platform.committer("folders")
    album_committer = await platform.committer("albums")
    identity = IdentityCommands(platform.apps["users"], users, _no_google, _nothing, _nothing)
    try:
        user_id = (
            await identity.register(DEMO_EMAIL, DEMO_PASSWORD, "Demo Photographer")
        ).aggregate_id
    except EmailTaken:
        user_id = (await identity.login(DEMO_EMAIL, DEMO_PASSWORD)).user_id
    studio = OrganizationCommands(orgs, b"demo-invitations-are-not-sent", timedelta(days=7))
    org_id = (await studio.create("Demo Studio", user_id)).aggregate_id
    storage = StorageCommands(folders)
    folder_id = (
        await storage.register(org_id, "local", str(photos), "Sample photos", user_id)
    ).aggregate_id
    await storage.start_sync(folder_id, "full", str(user_id))
    albums = _album_commands(platform, album_committer)
    photographer = Member(user_id)
    wedding = NewAlbum(
        "Anna & Ben, June wedding", "Anna Client", "anna@example.com", folder_id, ["wedding"], 10
    )
    album_id = (await albums.create(org_id, wedding, photographer)).aggregate_id
    await albums.request_sync(album_id, photographer)
    seeded = {
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "user_id": str(user_id),
        "org_id": str(org_id),
        "folder_id": str(folder_id),
        "album_id": str(album_id),
    }
    marker.write_text(json.dumps(seeded, indent=2))
    _announce(seeded, settings.public_url)
    return seeded


async def share_demo_album(platform: Platform, seeded: dict[str, str]) -> None:
    """Once the demo album's first sync has finished, share it and print the client's link."""
    marker = Path(platform.settings.demo_photos_dir).resolve().parent / "demo.json"
    if "share_token" in seeded or "album_id" not in seeded:
        return
    album_id = UUID(seeded["album_id"])
    committer = await platform.committer("albums")
    albums = _album_commands(platform, committer)
    for _ in range(240):
        album: Album = await asyncio.to_thread(platform.apps["albums"].repository.get, album_id)
        if album.state != SYNCING:
            break
        await asyncio.sleep(0.5)
    member = Member(UUID(seeded["user_id"]))
    token = (await albums.share(album_id, None, True, member)).share_token
    seeded["share_token"] = token
    marker.write_text(json.dumps(seeded, indent=2))
    _announce(seeded, platform.settings.public_url)


def _announce(seeded: dict[str, str], public_url: str) -> None:
    lines = [
        "",
        "Demo studio ready:",
        f"  web app        {public_url}/app/  (email {seeded['email']}, "
        f"password {seeded['password']})",
    ]
    if "album_id" in seeded:
        lines.append(f"  album page     {public_url}/app/albums/{seeded['album_id']}")
    if "share_token" in seeded:
        lines.append(f"  client gallery {public_url}/g/{seeded['share_token']}")
    lines += [
        "API:",
        f"  sign in   POST {public_url}/api/auth/login "
        f'{{"email": "{seeded["email"]}", "password": "{seeded["password"]}"}}',
        f"  studio    GET  {public_url}/api/orgs/{seeded['org_id']}",
        f"  photos    GET  {public_url}/api/storage/folders/{seeded['folder_id']}/photos",
    ]
    if "album_id" in seeded:
        lines.append(f"  album     GET  {public_url}/api/albums/{seeded['album_id']}")
    if "share_token" in seeded:
        lines.append(f"  client    GET  {public_url}/api/share/{seeded['share_token']}")
    print("\n".join(lines) + "\n", flush=True)


async def _no_google(token: str) -> GoogleIdentity:
    raise RuntimeError("the demo does not sign in with Google")


async def _nothing(_: UUID) -> None:
    return None


def link_key(platform: Platform) -> bytes:
    return keys.invitation_key(platform.keys_dir)


def _album_commands(platform: Platform, committer: GroupCommitter) -> AlbumCommands:
    return AlbumCommands(
        platform.apps["albums"],
        committer,
        link_key(platform),
        StorageFolderOwners(platform.apps["folders"]),
        OrganizationStudioRoles(platform.apps["orgs"]),
        keys=PostgresClientKeys(platform.pool),
    )
