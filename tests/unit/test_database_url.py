"""The event store connects where the rest of the platform does, a Unix socket included."""

from __future__ import annotations

import pytest

from infra.settings import Settings


@pytest.mark.parametrize(
    ("url", "host", "port", "database"),
    [
        ("postgresql://pf:secret@db.example:6543/photoflow", "db.example", "6543", "photoflow"),
        ("postgresql://pf:secret@127.0.0.1/photoflow", "127.0.0.1", "5432", "photoflow"),
        # libpq's (and asyncpg's) way to name a Unix socket's directory and port
        (
            "postgresql://pf:secret@/photoflow?host=/run/postgresql&port=5442",
            "/run/postgresql",
            "5442",
            "photoflow",
        ),
        # every part as a query parameter
        (
            "postgresql://?host=/run/postgresql&port=5442&user=pf&password=secret&dbname=pf",
            "/run/postgresql",
            "5442",
            "pf",
        ),
    ],
)
def test_the_event_store_gets_the_urls_host_port_and_database(
    url: str, host: str, port: str, database: str
) -> None:
    parts = Settings(database_url=url).postgres_parts()
    assert (parts["POSTGRES_HOST"], parts["POSTGRES_PORT"], parts["POSTGRES_DBNAME"]) == (
        host,
        port,
        database,
    )
    assert (parts["POSTGRES_USER"], parts["POSTGRES_PASSWORD"]) == ("pf", "secret")
