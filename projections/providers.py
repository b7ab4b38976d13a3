"""Read table ``read.providers``: which providers a studio has set up, without the secrets."""

from __future__ import annotations

from typing import ClassVar

import asyncpg
import orjson

from broker.topics import PROVIDERS
from projections.base import Statement, StatementProjection

UPSERT = (
    "INSERT INTO read.providers (org_id, kind, settings_id, public, secrets_set, updated_at,"
    " updated_by) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) ON CONFLICT (org_id, kind) DO"
    " UPDATE SET settings_id = EXCLUDED.settings_id, public = EXCLUDED.public,"
    " secrets_set = EXCLUDED.secrets_set, updated_at = EXCLUDED.updated_at,"
    " updated_by = EXCLUDED.updated_by"
)

PROVIDER_STATEMENTS: dict[str, Statement] = {
    "ProviderSettingsConfigured": (
        UPSERT,
        lambda e: (
            e.org_id,
            e.data["kind"],
            e.aggregate_id,
            orjson.dumps(e.data["public"]).decode(),
            e.data["secrets_set"],
            e.occurred_at,
            e.actor,
        ),
    ),
    "ProviderSettingsReconfigured": (
        "UPDATE read.providers SET public = $2::jsonb, secrets_set = $3, updated_at = $4,"
        " updated_by = $5 WHERE settings_id = $1",
        lambda e: (
            e.aggregate_id,
            orjson.dumps(e.data["public"]).decode(),
            e.data["secrets_set"],
            e.occurred_at,
            e.actor,
        ),
    ),
    "ProviderSettingsRemoved": (
        "DELETE FROM read.providers WHERE settings_id = $1",
        lambda e: (e.aggregate_id,),
    ),
}


class ProvidersProjection(StatementProjection):
    name: ClassVar[str] = "providers"
    topics: ClassVar[tuple[str, ...]] = (PROVIDERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.providers",)
    statements: ClassVar[dict[str, Statement]] = PROVIDER_STATEMENTS

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.providers (
                org_id uuid NOT NULL,
                kind text NOT NULL,
                settings_id uuid,
                public jsonb NOT NULL,
                secrets_set text[] NOT NULL,
                updated_at timestamptz NOT NULL,
                updated_by text,
                PRIMARY KEY (org_id, kind)
            );
            CREATE UNIQUE INDEX IF NOT EXISTS providers_settings_idx
                ON read.providers (settings_id);
            """
        )
