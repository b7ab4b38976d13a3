"""Who may do what in a studio: the one table every route and command consults.

A role grants a set of actions. Routes check the caller's role in the studio before running a
command or a query; aggregates check it again against their own member list, so a stale read
model can never let a command through.
"""

from __future__ import annotations

from enum import StrEnum

from domains.errors import DomainError


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    PHOTOGRAPHER = "photographer"
    VIEWER = "viewer"
    AUDITOR = "auditor"
    """Reads the audit routes (events, state, verify, exports) and nothing else."""


class Action(StrEnum):
    VIEW = "view"  # read the studio, its albums, folders and members
    RENAME_ORG = "org.rename"
    INVITE = "members.invite"
    MANAGE_MEMBERS = "members.manage"  # change roles, remove members, revoke invitations
    GRANT_OWNER = "members.grant-owner"
    MANAGE_PROVIDERS = "providers.manage"
    EDIT_ALBUMS = "albums.edit"  # create, sync, share, deliver albums; set editing status
    MANAGE_STORAGE = "storage.manage"  # register and sync folders
    AUDIT = "audit.read"
    BRAND = "studio.brand"  # the studio's watermark
    FORGET_CLIENT = "albums.forget-client"  # erase an album client's personal data


_PHOTOGRAPHER = frozenset({Action.VIEW, Action.EDIT_ALBUMS, Action.MANAGE_STORAGE})
_ADMIN = _PHOTOGRAPHER | {
    Action.RENAME_ORG,
    Action.INVITE,
    Action.MANAGE_MEMBERS,
    Action.MANAGE_PROVIDERS,
    Action.AUDIT,
    Action.BRAND,
    Action.FORGET_CLIENT,
}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.VIEW}),
    Role.AUDITOR: frozenset({Action.AUDIT}),
    Role.PHOTOGRAPHER: _PHOTOGRAPHER,
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_ADMIN | {Action.GRANT_OWNER}),
}


class Forbidden(DomainError):
    """The caller belongs to the studio but its role does not allow the action."""

    def __init__(self, role: Role, action: Action) -> None:
        super().__init__(f"a studio {role.value} may not {action.value}")
        self.role = role
        self.action = action


def allows(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def require(role: Role, action: Action) -> None:
    if not allows(role, action):
        raise Forbidden(role, action)
