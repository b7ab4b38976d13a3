"""A small Drive v3 server of our own, for the real Google client library to talk to.

It serves what the Drive provider calls (files.list, files.get, changes.getStartPageToken,
changes.list), a file's bytes (files.get with ``alt=media``, honouring ``Range``: 206 with
``Content-Range``, 416 when no byte of the range exists) and Google's OAuth token endpoint,
so both ``google-auth`` flows run for real: a service account's signed JWT is verified, a
refresh token is checked, and API requests need the bearer token handed out. Tests mutate
the contents (``server.store``), make the next requests fail (``fail_next``) and read what
the client asked (``calls``).

Usage::

    with drive_server() as drive:
        top = drive.store.add_folder("Wedding")
        drive.store.add_images(2500, parent=top)
        photo = drive.store.add_file("a.jpg", top, content=jpeg_bytes)  # served by alt=media
        provider = GoogleDriveProvider(drive.service_account(), api_url=drive.api_endpoint)
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt as google_jwt
from google.auth.credentials import Credentials

from infra.cloud.google_drive import drive_credentials
from tests.support.drive_query import QueryError, compile_query, parse_fields, select
from tests.support.drive_store import DriveStore

API = "/drive/v3/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCE = "https://oauth2.googleapis.com/token"
"""google-auth always addresses a service account's assertion to Google's token endpoint."""
OAUTH = {
    "client_id": "photoflow.apps.test",
    "client_secret": "test-secret",
    "refresh_token": "1//test-refresh",
}
REASONS = {
    429: "rateLimitExceeded",
    403: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
    404: "notFound",
    400: "invalid",
}


BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Call:
    """One request as the server saw it: what the client asked, and what it was answered."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    range: str | None = None
    """The ``Range`` header of a media request, as sent."""


@dataclass(frozen=True)
class Media:
    """A file's bytes (or a range of them), answered as they are rather than as JSON."""

    data: bytes
    headers: dict[str, str]


class DriveServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.store = DriveStore()
        self.calls: list[Call] = []
        self.latency = 0.0
        self._faults: deque[tuple[int, str]] = deque()
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def api_endpoint(self) -> str:
        return f"{self.url}{API}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def fail_next(self, count: int, status: int = 503, reason: str | None = None) -> None:
        """The next ``count`` API requests answer ``status`` (403: rateLimitExceeded)."""
        with self._lock:
            self._faults.extend([(status, reason or REASONS.get(status, "error"))] * count)

    def revoke_tokens(self) -> None:
        """Every access token handed out so far stops working: the client must refresh."""
        with self._lock:
            self._tokens.clear()

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in list(self.calls) if call.path == f"{API}{path}"]

    def service_account_settings(self) -> dict[str, str]:
        """A studio's Drive settings holding a service account whose key this server knows."""
        private = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "photoflow-test",
            "private_key_id": "test-key",
            "private_key": private,
            "client_email": "sync@photoflow-test.iam.gserviceaccount.com",
            "client_id": "1001",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
        return {"service_account_json": json.dumps(info)}

    def user_settings(self) -> dict[str, str]:
        """A studio's Drive settings holding an OAuth refresh token this server accepts."""
        return dict(OAUTH)

    def service_account(self) -> Credentials:
        return drive_credentials(self.service_account_settings(), self.token_uri)

    # serving ------------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, params: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        if method == "POST" and path == "/token":
            status, payload = self._token(parse_qs(body.decode()))
        elif not path.startswith(API):
            status, payload = 404, _error(404, "notFound", f"no route {path}")
        else:
            status, payload = self._api(path.removeprefix(API), params, headers)
        self.calls.append(Call(method, path, params, status, headers.get("range")))
        return status, payload

    def _api(self, route: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            known = headers.get("authorization", "").removeprefix("Bearer ") in self._tokens
        if fault is not None:
            return fault[0], _error(fault[0], fault[1], "injected failure")
        if not known:
            return 401, _error(401, "authError", "Request had invalid authentication credentials.")
        try:
            if params.get("alt") == "media" and route.startswith("files/"):
                return self._media(route.removeprefix("files/"), headers.get("range"))
            payload = self._route(route, params)
        except QueryError as error:
            return 400, _error(400, "invalid", str(error))
        except KeyError as error:
            return 404, _error(404, "notFound", f"File not found: {error}.")
        return 200, select(payload, parse_fields(params.get("fields")))

    def _route(self, route: str, params: dict[str, str]) -> dict[str, Any]:
        size = min(int(params.get("pageSize", "100")), 1000)
        if route == "files":
            query = compile_query(params.get("q", "trashed = false"))
            for parent in query.parents:
                if parent not in self.store.items:
                    raise KeyError(parent)
            files, token = self.store.list_page(query, size, params.get("pageToken"))
            return {
                "kind": "drive#fileList",
                "files": files,
                "nextPageToken": token,
                "incompleteSearch": False,
            }
        if route.startswith("files/"):
            with self.store.lock:
                return dict(self.store.items[route.removeprefix("files/")])
        if route == "changes/startPageToken":
            return {"kind": "drive#startPageToken", "startPageToken": str(len(self.store.log))}
        if route == "changes":
            size = min(int(params.get("pageSize", "100")), 1000)
            entries, end, more = self.store.changes_page(int(params["pageToken"]), size)
            follow = {"nextPageToken": str(end)} if more else {"newStartPageToken": str(end)}
            return {"kind": "drive#changeList", "changes": entries, **follow}
        raise KeyError(route)

    def _media(self, file_id: str, wanted: str | None) -> tuple[int, Any]:
        """The file's bytes: all of them (200), one range (206), or 416 past the end."""
        with self.store.lock:
            item = self.store.items[file_id]  # KeyError: 404
            if "size" not in item:
                message = "Only files with binary content can be downloaded."
                return 403, _error(403, "fileNotDownloadable", message)
            data = self.store.content(file_id)
        size = len(data)
        found = BYTE_RANGE.fullmatch(wanted.strip()) if wanted else None
        if found is None or found.groups() == ("", ""):  # no Range, or one we ignore
            return 200, Media(data, {"Content-Type": item["mimeType"]})
        first, last = found.groups()
        if first:
            start, end = int(first), min(size - 1, int(last) if last else size - 1)
        else:  # bytes=-N: the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            payload = _error(416, "requestedRangeNotSatisfiable", "Request range not satisfiable")
            return 416, Media(orjson.dumps(payload), {"Content-Range": f"bytes */{size}"})
        headers = {"Content-Type": item["mimeType"], "Content-Range": f"bytes {start}-{end}/{size}"}
        return 206, Media(data[start : end + 1], headers)

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        field = {name: values[0] for name, values in form.items()}
        grant = field.get("grant_type")
        if grant == "refresh_token":
            accepted = all(field.get(name) == value for name, value in OAUTH.items())
        elif grant == JWT_GRANT:
            accepted = self._signed_by_our_key(field.get("assertion", ""))
        else:
            accepted = False
        if not accepted:
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        token = f"ya29.test-{len(self.calls)}-{time.monotonic_ns()}"
        with self._lock:
            self._tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _signed_by_our_key(self, assertion: str) -> bool:
        public = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            google_jwt.decode(assertion, certs=public, audience=JWT_AUDIENCE)  # type: ignore[no-untyped-call]
        except ValueError:
            return False
        return True


def _error(status: int, reason: str, message: str) -> dict[str, Any]:
    """Google's JSON error body: the client reads ``errors[].reason`` to judge a 403."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: httplib2 reuses one connection

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        params = {name: values[0] for name, values in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        drive = cast(_Server, self.server).drive
        status, payload = drive.answer(self.command, url.path, params, body, headers)
        if isinstance(payload, Media):
            data, extra = payload.data, payload.headers
        else:
            data, extra = orjson.dumps(payload), {}
        self.send_response(status)
        if "Content-Type" not in extra:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


class _Server(ThreadingHTTPServer):
    drive: DriveServer


@contextmanager
def drive_server(port: int = 0) -> Iterator[DriveServer]:
    """Serve a fresh, empty Drive (a 'root' folder) on a free port for the duration."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.drive = DriveServer(f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.drive
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """Serve a generated Drive from a process of its own, so benchmarks measure only the client.

    Prints one JSON line (``api_endpoint``, ``token_uri``, ``folder``, ``settings``), then
    serves until stopped.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--per-folder", type=int, default=0, help="0: one flat folder")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    with drive_server(options.port) as drive:
        folder = drive.store.add_images(
            options.images, drive.store.add_folder("Benchmark"), options.per_folder or None
        )
        print(
            json.dumps(
                {
                    "api_endpoint": drive.api_endpoint,
                    "token_uri": drive.token_uri,
                    "folder": folder,
                    "settings": drive.service_account_settings(),
                }
            ),
            flush=True,
        )
        threading.Event().wait()


if __name__ == "__main__":
    main()
