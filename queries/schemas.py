"""Response models shared by several route modules, so every 2xx body has a schema.

They describe what the handlers already answer; the OpenAPI document takes them from each
``Endpoint(response=...)``, and the conformance test holds the server to them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Jwk(BaseModel):
    """One public signing key (RFC 7517); access tokens name it in their ``kid`` header."""

    model_config = ConfigDict(extra="allow")
    kty: str
    kid: str
    alg: str | None = None
    use: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None


class Jwks(BaseModel):
    keys: list[Jwk]


class OpenApiDocument(BaseModel):
    """This document; its parts are described by the OpenAPI 3.1 specification itself."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any] = Field(default_factory=dict)


class AsyncApiDocument(BaseModel):
    """The Kafka contract, in AsyncAPI 3."""

    model_config = ConfigDict(extra="allow")
    asyncapi: str
    info: dict[str, Any]
    channels: dict[str, Any]
