"""The S3 provider calls only where the outbound rule allows, and never repeats a server's words.

Moto and a hand-written S3 stand-in listen on loopback: without an allowance for 127.0.0.1 the
provider must refuse them, whether the endpoint names the address or a name resolves to it when
the client connects (DNS rebinding); with the allowance it lists them. An error answer becomes
a reason of our own, with at most the error code.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from domains.errors import InvalidValue
from domains.outbound import PrivateAllowance
from infra.cloud import ProviderConfig, ProviderError, StorageProvider, make_provider
from infra.cloud import outbound as outbound_module
from infra.cloud.outbound import OutboundPolicy
from tests.support.moto import moto_bucket

BUCKET = "outbound-photos"
LOOPBACK = PrivateAllowance.parse(["127.0.0.1"])
BANNER = "INTERNAL-BANNER-do-not-show"


@pytest.fixture(scope="module")
def moto() -> Iterator[dict[str, str]]:
    with moto_bucket(BUCKET) as (fields, s3):
        s3.put_object(Bucket=BUCKET, Key="day/IMG_1.jpg", Body=b"x")
        yield fields


class _Answers(BaseHTTPRequestHandler):
    """An S3 stand-in whose answers carry text that must never reach a member."""

    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        if "weird" in self.path:
            body = f"<Error><Code>{BANNER} code</Code><Message>{BANNER}</Message></Error>"
            status = 400
        elif "garbage" in self.path:
            body, status = f"<html>{BANNER}</html>", 404
        else:
            body = f"<Error><Code>AccessDenied</Code><Message>{BANNER}</Message></Error>"
            status = 403
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def s3(fields: dict[str, str], allowance: PrivateAllowance) -> StorageProvider:
    return make_provider("s3", {**fields}, ProviderConfig(allowance=allowance))


async def listing(fields: dict[str, str], location: str, allowance: PrivateAllowance) -> int:
    pages = [page async for page in s3(fields, allowance).pages(location)]
    return sum(len(page) for page in pages)


async def test_with_the_allowance_moto_on_loopback_is_listed(moto: dict[str, str]) -> None:
    assert await listing(moto, f"s3://{BUCKET}/day", LOOPBACK) == 1


async def test_without_it_a_loopback_endpoint_is_refused_before_any_request(
    moto: dict[str, str],
) -> None:
    for endpoint in (moto["endpoint_url"], moto["endpoint_url"].replace("http:", "https:")):
        with pytest.raises(ProviderError) as refused:
            await listing(
                {**moto, "endpoint_url": endpoint}, f"s3://{BUCKET}/day", PrivateAllowance()
            )
        assert not refused.value.retryable
        assert "127.0.0.1" in refused.value.reason


class _Rebinding(AbstractResolver):
    """A name that looked public when it was saved and resolves to loopback when used."""

    calls = 0

    def __init__(self, *args: Any) -> None:
        pass

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        type(self).calls += 1
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def test_a_name_that_resolves_to_a_private_address_at_connect_time_is_refused(
    moto: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound_module, "ThreadedResolver", _Rebinding)
    port = moto["endpoint_url"].rpartition(":")[2]
    fields = {**moto, "endpoint_url": f"https://s3.rebinding.invalid:{port}"}
    started = time.monotonic()
    with pytest.raises(ProviderError) as refused:
        await listing(fields, f"s3://{BUCKET}/day", PrivateAllowance())
    assert "s3.rebinding.invalid resolves to an address that is not public" in refused.value.reason
    assert "loopback" in refused.value.reason
    assert not refused.value.retryable
    assert _Rebinding.calls == 1, "a refused address is not retried"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("bucket", "shown"),
    [
        ("denied", "the S3 endpoint refused the request (AccessDenied)"),
        ("weird", "the S3 endpoint answered with an error"),
        ("garbage", "the S3 endpoint"),
    ],
)
async def test_an_error_answer_is_reported_in_our_words(
    stand_in: str, moto: dict[str, str], bucket: str, shown: str
) -> None:
    fields = {**moto, "endpoint_url": stand_in}
    with pytest.raises(ProviderError) as failed:
        await listing(fields, f"s3://{bucket}/x", LOOPBACK)
    assert shown in failed.value.reason
    assert BANNER not in str(failed.value) and "code" not in failed.value.reason.partition(":")[2]


async def test_saving_an_endpoint_whose_name_resolves_privately_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {"s3.example.com": "93.184.216.34", "s3.internal.example.com": "10.0.0.8"}

    async def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], 0))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    policy = OutboundPolicy(PrivateAllowance())
    await policy.check("endpoint_url", "https://s3.example.com")
    await policy.check("endpoint_url", "https://unknown.example.com")  # checked on connect
    with pytest.raises(InvalidValue) as refused:
        await policy.check("endpoint_url", "https://s3.internal.example.com:9000")
    assert refused.value.field == "endpoint_url"
    assert "private address (10.0.0.8)" in refused.value.message
    allowed = OutboundPolicy(PrivateAllowance.parse(["10.0.0.0/8"]))
    await allowed.check("endpoint_url", "https://s3.internal.example.com")
