"""All configuration, read from ``PHOTOFLOW_*`` environment variables at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Defaults match the local stack that ``make up`` starts; point elsewhere through env."""

    model_config = SettingsConfigDict(env_prefix="PHOTOFLOW_", extra="ignore")

    database_url: str = "postgresql://photoflow:photoflow@127.0.0.1:5432/photoflow"
    redis_url: str = "redis://127.0.0.1:6379/0"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(
        default=6, ge=1, description="Partitions of each topic the platform creates."
    )
    topic_partitions: dict[str, PositiveInt] = Field(
        default_factory=dict,
        description='Partitions of named topics, as JSON: {"photoflow.album": 24} (names '
        "without TOPIC_PREFIX); others get KAFKA_PARTITIONS. Only topics still to be created "
        "take it: an existing topic keeps its partitions (a warning says so).",
    )
    topic_prefix: str = Field(default="", description="Prepended to every topic name.")
    namespace: str = Field(
        default="photoflow",
        description="Names consumer groups and Redis keys, so two platforms can share servers.",
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    consistency_wait_seconds: float = Field(default=5.0, gt=0)

    group_commit_max_batch: int = Field(default=500, ge=1)
    relay_batch_size: int = Field(default=2_000, ge=1)
    projection_batch_size: int = Field(default=5_000, ge=1)
    heartbeat_seconds: float = Field(default=1.0, gt=0)

    keys_dir: str = Field(default="var/keys", description="JWT, cipher and invitation keys.")
    public_url: str = Field(
        default="",
        description="Where people reach the platform, for links in mail and the demo's output; "
        "by default the API's own address (http://HTTP_HOST:HTTP_PORT).",
    )
    jwt_issuer: str = "photoflow"
    jwt_audience: str = "photoflow-api"
    access_token_seconds: int = Field(default=900, ge=30)
    invitation_days: int = Field(default=7, ge=1)
    google_client_id: str = Field(default="", description="OAuth client id (ID token audience).")
    google_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    cors_origins: list[str] = Field(default_factory=list)
    local_roots: str = Field(
        default="var/demo-photos:~/Pictures",
        description="Colon-separated directories the local provider may read.",
    )
    drive_api_url: str = "https://www.googleapis.com/drive/v3/"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    sync_parallel: int = Field(default=4, ge=1)
    sync_batch_size: int = Field(default=1000, ge=1, description="Files per recorded batch.")
    demo: bool = Field(default=False, description="Seed a demo studio on first start.")
    demo_photos_dir: str = "var/demo-photos"
    mail_backend: Literal["mailbox", "smtp"] = "mailbox"
    mailbox_dir: str = "var/mailbox"
    mail_from: str = "PhotoFlow <no-reply@photoflow.local>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    sender_max_attempts: int = Field(default=5, ge=1)
    digest_seconds: float = Field(default=1800, gt=0, description="Client-activity digest period.")
    sender_retry_base_seconds: float = Field(default=1.0, gt=0)
    sender_retry_max_seconds: float = Field(default=60.0, gt=0)
    auth_rate_limit: int = Field(default=30, ge=1, description="Auth requests per IP a minute.")
    user_rate_limit: int = Field(default=1200, ge=1, description="Requests per user a minute.")
    image_rate_limit: int = Field(
        default=12000,
        ge=1,
        description="Thumbnail, preview and original GETs per user a minute (their own budget).",
    )
    instance: str = Field(default="", description="Names this process in heartbeats.")
    processes: Literal["single", "split", "auto"] = Field(
        default="single",
        description="The shape of `python -m infra run`: single, one process for everything "
        "(tests, small machines); split, API_WORKERS API processes on one port and each worker "
        "in a process of its own, under one supervisor; auto, split on two cores or more. "
        "`make run` sets auto.",
    )
    api_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="API processes sharing the port in split mode; one per core by default.",
    )

    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-For is believed; "
        "from anyone else the header is ignored.",
    )
    allowed_private_endpoints: str = Field(
        default="",
        description="Comma-separated hosts or networks a studio endpoint may name although "
        "they are private, loopback or link-local (tests: moto on 127.0.0.1).",
    )
    login_failures_per_account: int = Field(
        default=10, ge=1, description="Failed sign-ins per account in 15 minutes."
    )
    consumer_attempts: int = Field(
        default=3, ge=1, description="Tries of a message that fails the same way before it parks."
    )
    consumer_retry_base_seconds: float = Field(default=0.5, gt=0)
    consumer_retry_max_seconds: float = Field(default=30.0, gt=0)
    watchdog_seconds: float = Field(
        default=60.0, gt=0, description="A consumer behind and not moving this long is recreated."
    )
    eventstore_pool_min: int = Field(
        default=1,
        ge=0,
        description="PostgreSQL connections each of the seven event stores keeps open; it opens "
        "more on demand up to eventstore_pool_max and closes them after 10 idle minutes.",
    )
    eventstore_pool_max: int = Field(default=4, ge=1)
    read_pool_min: int = Field(
        default=1, ge=0, description="Connections the read tables' pool keeps open."
    )
    read_pool_max: int = Field(default=16, ge=1)
    read_replica_url: str = Field(
        default="",
        description="A hot-standby replica of DATABASE_URL the query API reads the read tables "
        "from (its own pool, sized like the read pool); empty: DATABASE_URL. Commands, "
        "projections and workers always use DATABASE_URL.",
    )

    @field_validator("read_replica_url")
    @classmethod
    def _a_postgresql_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL, or empty for none")
        return value

    database_timeout_seconds: float = Field(
        default=4.0, gt=0, description="Connect timeout and command deadline: 503 in time."
    )
    stream_token_seconds: int = Field(
        default=60, ge=5, description="How long a stream token may open a live stream (once)."
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="A keep-alive comment on an idle live stream this often."
    )
    stream_max_seconds: float = Field(
        default=900.0, gt=0, description="A live stream ends after this; the client reopens it."
    )
    stream_queue_size: int = Field(
        default=1000, ge=1, description="Messages a slow stream may lag before it catches up."
    )

    def local_root_paths(self) -> list[Path]:
        return [Path(p).expanduser().resolve() for p in self.local_roots.split(":") if p.strip()]

    @model_validator(mode="after")
    def _own_address_by_default(self) -> Settings:
        if not self.public_url:
            self.public_url = f"http://{self.http_host}:{self.http_port}"
        return self

    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    def allowed_private_list(self) -> list[str]:
        return [p.strip() for p in self.allowed_private_endpoints.split(",") if p.strip()]

    def postgres_parts(self) -> dict[str, str]:
        """The database URL split into the ``POSTGRES_*`` keys the eventsourcing library reads."""
        url = urlsplit(self.database_url)
        # libpq's query parameters (``?host=/socket/dir&port=N``: a Unix socket) where the URL's
        # own parts are missing, as asyncpg reads them
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        return {
            "POSTGRES_HOST": url.hostname or query.get("host") or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or query.get("port") or 5432),
            "POSTGRES_USER": unquote(url.username or query.get("user") or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or query.get("password") or ""),
            "POSTGRES_DBNAME": url.path.lstrip("/") or query.get("dbname") or "postgres",
        }

    # Renditions and serving (issue 10) ---------------------------------------------------------
    renditions_dir: str = Field(
        default="var/renditions",
        description="The rendition store: thumbnails and previews, keyed by checksum.",
    )
    renditions_url: str = Field(
        default="",
        description="Empty: the rendition store is RENDITIONS_DIR; s3://bucket/prefix: objects "
        "<prefix>/<kind>/<key[:2]>/<key>.jpg in that bucket (RENDITIONS_S3_*).",
    )
    renditions_s3_endpoint_url: str = Field(
        default="", description="An S3-compatible server for RENDITIONS_URL; empty: AWS."
    )
    renditions_s3_region: str = Field(default="", description="Empty: boto's default.")
    renditions_s3_access_key_id: str = Field(
        default="", description="Empty, with the secret: boto's credential chain (env, role)."
    )
    renditions_s3_secret_access_key: SecretStr | None = None
    render_parallel: int = Field(
        default=2, ge=1, description="Photos rendered at once by one render worker (threads)."
    )
