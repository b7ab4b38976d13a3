"""The album use cases against an in-memory store, with small fakes for the other contexts.

A member's role comes from ``StudioRoles`` (the Organization aggregate in production), never
from a read table; a guest proves itself with the link before it learns anything, even the
album's version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from commands.albums import AlbumCommands, AlbumsApplication
from commands.client_keys import MemoryClientKeys
from commands.group_commit import GroupCommitter
from domains.album import NewAlbum
from domains.album_actors import Guest, Member
from domains.errors import ConcurrencyConflict, NotFound
from domains.policies import Forbidden, Role


@dataclass
class FakeStudios:
    """``StudioRoles`` as a table: studio -> member -> role."""

    roles: dict[UUID, dict[UUID, Role]] = field(default_factory=dict)

    async def role_of(self, org_id: UUID, user_id: UUID) -> Role | None:
        return self.roles.get(org_id, {}).get(user_id)


class NoFolders:
    async def owner_of(self, folder_id: UUID) -> UUID | None:
        return None


@dataclass
class World:
    albums: AlbumCommands
    studios: FakeStudios
    org_id: UUID
    owner: Member


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = AlbumsApplication()
    owner, org_id = Member(uuid4()), uuid4()
    studios = FakeStudios({org_id: {owner.user_id: Role.OWNER}})
    async with GroupCommitter(app) as committer:
        albums = AlbumCommands(
            app, committer, b"k" * 32, NoFolders(), studios, keys=MemoryClientKeys()
        )
        yield World(albums, studios, org_id, owner)


async def test_a_stranger_learns_nothing_and_a_viewer_may_not_edit(world: World) -> None:
    album = await world.albums.create(world.org_id, NewAlbum("A", "C", "c@x.io"), world.owner)
    stranger, viewer = Member(uuid4()), Member(uuid4())
    world.studios.roles[world.org_id][viewer.user_id] = Role.VIEWER
    with pytest.raises(NotFound, match="Organization"):
        await world.albums.create(world.org_id, NewAlbum("B", "C", "c@x.io"), stranger)
    with pytest.raises(NotFound, match=str(album.aggregate_id)):
        await world.albums.archive(album.aggregate_id, stranger)
    with pytest.raises(Forbidden):
        await world.albums.archive(album.aggregate_id, viewer)
    world.studios.roles[world.org_id][viewer.user_id] = Role.PHOTOGRAPHER  # promoted: at once
    archived = await world.albums.archive(album.aggregate_id, viewer)
    assert archived.version == album.version + 1


async def test_a_stale_version_is_refused_and_a_current_one_accepted(world: World) -> None:
    album = await world.albums.create(world.org_id, NewAlbum("A", "C", "c@x.io"), world.owner)
    tagged = await world.albums.tag(album.aggregate_id, "x", world.owner, album.version)
    with pytest.raises(ConcurrencyConflict):
        await world.albums.tag(album.aggregate_id, "y", world.owner, album.version)
    await world.albums.untag(album.aggregate_id, "x", world.owner, tagged.version)


async def test_a_guest_proves_the_link_before_any_version_check(world: World) -> None:
    album = await world.albums.create(world.org_id, NewAlbum("A", "C", "c@x.io"), world.owner)
    forged = Guest(f"{album.aggregate_id}.forged", "anna")
    with pytest.raises(NotFound, match="share link"):
        await world.albums.submit(forged, expected_version=0)
