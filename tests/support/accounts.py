"""Signing up and in through the HTTP API, as a frontend would."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def sign_up(http: httpx.AsyncClient, email: str | None = None) -> Account:
    email = email or f"{uuid.uuid4().hex[:12]}@example.com"
    registered = await http.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Test"}
    )
    assert registered.status_code == 201, registered.text
    return await sign_in(http, email)


async def sign_in(http: httpx.AsyncClient, email: str) -> Account:
    answer = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    pair: dict[str, Any] = answer.json()
    return Account(
        str(_subject(pair["access_token"])), email, pair["access_token"], pair["refresh_token"]
    )


def _subject(access_token: str) -> str:
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])
