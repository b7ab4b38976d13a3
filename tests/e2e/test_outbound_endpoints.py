"""A studio's S3 endpoint: https and public only, and its server's words never reach members.

Issue 8, item 5: any ``endpoint_url`` was accepted, the sync worker sent a signed request
there and copied the answer's message into ``sync.error``. The platform under test allows
127.0.0.1 (``PHOTOFLOW_ALLOWED_PRIVATE_ENDPOINTS``, see conftest) so moto can stand in for S3;
every other private, loopback or link-local address stays refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.e2e.conftest import Running
from tests.support.waiting import eventually

BUCKET = "e2e-outbound-photos"
BANNER = "internal-admin-banner-7f3a"
CREDENTIALS = {
    "access_key_id": "AKIATEST",
    "secret_access_key": "test-secret",
    "region": "eu-west-1",
}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=CREDENTIALS["region"],
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for n in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"shoot/IMG_{n}.jpg", Body=b"x" * (n + 1))
    try:
        yield endpoint
    finally:
        server.stop()


class _Denies(BaseHTTPRequestHandler):
    """An internal service that answers S3 requests with a page of its own."""

    def do_GET(self) -> None:
        data = f"<Error><Code>AccessDenied</Code><Message>{BANNER}</Message></Error>".encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def denying_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Denies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


async def studio(running: Running) -> tuple[str, dict[str, str]]:
    owner = await running.account()
    org = (await running.http.post("/api/orgs", json={"name": "S3"}, headers=owner.headers)).json()
    return org["org_id"], {**owner.headers, "X-Consistency-Token": org["consistency_token"]}


async def put_s3(running: Running, org_id: str, headers: dict[str, str], endpoint: str) -> Any:
    return await running.http.put(
        f"/api/orgs/{org_id}/providers/s3",
        json={**CREDENTIALS, "endpoint_url": endpoint},
        headers=headers,
    )


async def sync_folder(running: Running, org_id: str, headers: dict[str, str], location: str) -> str:
    http = running.http
    folder = await http.post(
        f"/api/orgs/{org_id}/storage/folders",
        json={"provider": "s3", "location": location, "name": "Bucket"},
        headers=headers,
    )
    assert folder.status_code == 201, folder.text
    folder_id = str(folder.json()["folder_id"])
    headers["X-Consistency-Token"] = folder.json()["consistency_token"]
    started = await http.post(
        f"/api/storage/folders/{folder_id}/sync", json={"mode": "full"}, headers=headers
    )
    assert started.status_code == 202, started.text
    return folder_id


async def finished(running: Running, folder_id: str, headers: dict[str, str]) -> dict[str, Any]:
    async def view() -> dict[str, Any]:
        answer = await running.http.get(f"/api/storage/folders/{folder_id}", headers=headers)
        return dict(answer.json())

    def done(folder: dict[str, Any]) -> bool:
        sync = folder.get("sync") or {}
        return sync.get("state") in ("completed", "failed")

    return await eventually(view, done, timeout=60, what="the folder's sync to end")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://s3.example.com",
        "https://127.0.0.2",
        "https://10.1.2.3",
        "https://169.254.169.254",
        "https://[::1]",
        "https://[::ffff:169.254.169.254]",
        "https://localhost",
        "https://2130706433",
    ],
)
async def test_a_private_or_plain_http_endpoint_is_422_naming_the_field(
    running: Running, endpoint: str
) -> None:
    org_id, headers = await studio(running)
    refused = await put_s3(running, org_id, headers, endpoint)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert error["field"].rpartition(".")[2] == "endpoint_url"
    listed = await running.http.get(f"/api/orgs/{org_id}/providers", headers=headers)
    assert listed.json()["items"] == [], "nothing was recorded"


async def test_an_allowed_endpoint_syncs(running: Running, moto_endpoint: str) -> None:
    org_id, headers = await studio(running)
    saved = await put_s3(running, org_id, headers, moto_endpoint)
    assert saved.status_code == 200, saved.text
    headers["X-Consistency-Token"] = saved.json()["consistency_token"]
    folder_id = await sync_folder(running, org_id, headers, f"s3://{BUCKET}/shoot")
    folder = await finished(running, folder_id, headers)
    assert folder["sync"]["state"] == "completed", folder
    assert folder["file_count"] == 3


async def test_a_sync_error_never_repeats_the_servers_message(
    running: Running, denying_endpoint: str
) -> None:
    org_id, headers = await studio(running)
    saved = await put_s3(running, org_id, headers, denying_endpoint)
    assert saved.status_code == 200, saved.text
    headers["X-Consistency-Token"] = saved.json()["consistency_token"]
    folder_id = await sync_folder(running, org_id, headers, f"s3://{BUCKET}/shoot")
    folder = await finished(running, folder_id, headers)
    error = folder["sync"]["error"]
    assert folder["sync"]["state"] == "failed" and "AccessDenied" in error, folder
    assert BANNER not in error
    audit = await running.http.get(f"/api/audit/folders/{folder_id}/events", headers=headers)
    assert BANNER not in audit.text
