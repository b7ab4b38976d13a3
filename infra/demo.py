"""The demo studio ``make run`` seeds on first start, so a newcomer can try every route at once.

It is made through the same use cases a person would run (register, create a studio, bind the
sample-photo folder, sync it). What it made is remembered in ``var/demo.json``, so the next
start only prints it again.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from commands.group_commit import GroupCommitter
from commands.identity import EmailTaken, GoogleIdentity, IdentityCommands
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from infra.bootstrap import Platform
from infra.demo_photos import generate

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
    async with (
        GroupCommitter(platform.apps["users"]) as users,
        GroupCommitter(platform.apps["orgs"]) as orgs,
        GroupCommitter(platform.apps["folders"]) as folders,
    ):
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
    seeded = {
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "user_id": str(user_id),
        "org_id": str(org_id),
        "folder_id": str(folder_id),
    }
    marker.write_text(json.dumps(seeded, indent=2))
    _announce(seeded, settings.public_url)
    return seeded


def _announce(seeded: dict[str, str], public_url: str) -> None:
    print(
        "\nDemo studio ready:\n"
        f"  sign in   POST {public_url}/api/auth/login "
        f'{{"email": "{seeded["email"]}", "password": "{seeded["password"]}"}}\n'
        f"  studio    GET  {public_url}/api/orgs/{seeded['org_id']}\n"
        f"  photos    GET  {public_url}/api/storage/folders/{seeded['folder_id']}/photos\n",
        flush=True,
    )


async def _no_google(token: str) -> GoogleIdentity:
    raise RuntimeError("the demo does not sign in with Google")


async def _nothing(_: UUID) -> None:
    return None
