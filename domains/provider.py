"""Provider settings: a studio's credentials for Google Drive, S3, mail and SMS.

The credentials live only in events of this aggregate, which its application stores encrypted;
they never leave through an envelope (``credentials`` is a secret field) nor through a route,
which shows the public half (bucket, region, host, sender address) and the names of the
secrets that are set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue
from domains.outbound import NO_ALLOWANCE, PrivateAllowance, check_endpoint

PROVIDERS_NAMESPACE = uuid5(NAMESPACE_URL, "https://photoflow.dev/providers")


@dataclass(frozen=True)
class ProviderKind:
    required: frozenset[str]
    optional: frozenset[str]
    secret: frozenset[str]


KINDS: dict[str, ProviderKind] = {
    "google_drive": ProviderKind(
        required=frozenset(),
        optional=frozenset({"service_account_json", "client_id", "client_secret", "refresh_token"}),
        secret=frozenset({"service_account_json", "client_secret", "refresh_token"}),
    ),
    "s3": ProviderKind(
        required=frozenset({"access_key_id", "secret_access_key", "region"}),
        optional=frozenset({"endpoint_url"}),
        secret=frozenset({"secret_access_key"}),
    ),
    "smtp": ProviderKind(
        required=frozenset({"host", "port", "from_address"}),
        optional=frozenset({"username", "password", "starttls"}),
        secret=frozenset({"password"}),
    ),
    "sms": ProviderKind(
        required=frozenset({"provider", "account_id", "auth_token", "from_number"}),
        optional=frozenset(),
        secret=frozenset({"auth_token"}),
    ),
}


def check_credentials(
    kind: str, fields: dict[str, str], allowance: PrivateAllowance = NO_ALLOWANCE
) -> ProviderKind:
    """The kind's spec, or ``InvalidValue`` naming the first field that is wrong.

    An S3 ``endpoint_url`` is an address the platform will call for the studio, so it must be
    https and no literal private address (``domains.outbound``), unless ``allowance`` lists it.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise InvalidValue("kind", f"must be one of {', '.join(sorted(KINDS))}")
    for name in sorted(spec.required - fields.keys()):
        raise InvalidValue(name, "is required")
    for name in sorted(fields.keys() - spec.required - spec.optional):
        raise InvalidValue(name, f"is not a setting of {kind}")
    if kind == "google_drive" and not (
        "service_account_json" in fields
        or {"client_id", "client_secret", "refresh_token"} <= fields.keys()
    ):
        raise InvalidValue(
            "service_account_json",
            "give a service account, or client_id, client_secret and refresh_token",
        )
    for name, value in fields.items():
        if not value.strip():
            raise InvalidValue(name, "must not be empty")
    if kind == "s3" and "endpoint_url" in fields:
        check_endpoint("endpoint_url", fields["endpoint_url"], allowance)
    return spec


class ProviderSettings(Aggregate):
    """One studio's settings for one provider kind; its id is derived from both."""

    SECRET_STATE: ClassVar[frozenset[str]] = frozenset({"credentials"})

    class Configured(Aggregate.Created):
        org_id: UUID
        kind: str
        public: dict[str, str]
        secrets_set: list[str]
        credentials: dict[str, str]
        actor: str

    class Reconfigured(Aggregate.Event):
        org_id: UUID
        public: dict[str, str]
        secrets_set: list[str]
        credentials: dict[str, str]
        actor: str

    class Removed(Aggregate.Event):
        org_id: UUID
        actor: str

    @staticmethod
    def create_id(org_id: UUID, kind: str) -> UUID:
        return uuid5(PROVIDERS_NAMESPACE, f"{org_id}:{kind}")

    @event(Configured)
    def __init__(
        self,
        org_id: UUID,
        kind: str,
        public: dict[str, str],
        secrets_set: list[str],
        credentials: dict[str, str],
        actor: str,
    ) -> None:
        self.org_id = org_id
        self.kind = kind
        self.public = public
        self.credentials = credentials
        self.removed = False

    @classmethod
    def configure(
        cls,
        org_id: UUID,
        kind: str,
        fields: dict[str, str],
        actor_id: UUID,
        allowance: PrivateAllowance = NO_ALLOWANCE,
    ) -> ProviderSettings:
        public, secret = _split(kind, fields, allowance)
        return cls(
            org_id=org_id,
            kind=kind,
            public=public,
            secrets_set=sorted(secret),
            credentials=secret,
            actor=str(actor_id),
        )

    def reconfigure(
        self, fields: dict[str, str], actor_id: UUID, allowance: PrivateAllowance = NO_ALLOWANCE
    ) -> None:
        public, secret = _split(self.kind, fields, allowance)
        self._reconfigured(
            org_id=self.org_id,
            public=public,
            secrets_set=sorted(secret),
            credentials=secret,
            actor=str(actor_id),
        )

    def remove(self, actor_id: UUID) -> None:
        if not self.removed:
            self._removed(org_id=self.org_id, actor=str(actor_id))

    @event(Reconfigured)
    def _reconfigured(
        self,
        org_id: UUID,
        public: dict[str, str],
        secrets_set: list[str],
        credentials: dict[str, str],
        actor: str,
    ) -> None:
        self.public = public
        self.credentials = credentials
        self.removed = False

    @event(Removed)
    def _removed(self, org_id: UUID, actor: str) -> None:
        self.removed = True
        self.public = {}
        self.credentials = {}


def _split(
    kind: str, fields: dict[str, str], allowance: PrivateAllowance
) -> tuple[dict[str, str], dict[str, str]]:
    spec = check_credentials(kind, fields, allowance)
    public = {k: v for k, v in fields.items() if k not in spec.secret}
    secret = {k: v for k, v in fields.items() if k in spec.secret}
    return public, secret
