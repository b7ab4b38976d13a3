"""A minimal HTTP/1.1 keep-alive client on raw asyncio streams.

The load generator shares two cores with the server, PostgreSQL and Kafka, so it must cost
little: httpx spends more CPU per request than the API does. This client writes one request,
reads one answer (Content-Length or chunked) and keeps the connection open. Nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import NamedTuple


class Answer(NamedTuple):
    status: int
    body: bytes


class HttpConnection:
    """One keep-alive connection; requests on it are sequential."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader = reader
        self._writer = writer
        self._host = host
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        for header, text in headers:
            head += f"{header}: {text}\r\n"
        self._writer.write(head.encode() + b"\r\n" + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection" and value.strip().lower() == b"close":
                self.closed = True
        if chunked:
            payload = await self._read_chunked()
        elif length is not None:
            payload = await self._reader.readexactly(length)
        else:
            payload = await self._reader.read()
            self.closed = True
        return Answer(status, payload)

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def usable(self) -> bool:
        return not self.closed and not self._reader.at_eof()

    async def close(self) -> None:
        self.closed = True
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


class HttpPool:
    """Connections for an open-loop load: a request takes an idle one or opens a new one."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._idle: list[HttpConnection] = []
        self._all: list[HttpConnection] = []

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
    ) -> Answer:
        while self._idle and not self._idle[-1].usable():
            self._idle.pop()
        if self._idle:
            conn = self._idle.pop()
        else:
            conn = await HttpConnection.open(self._host, self._port)
            self._all.append(conn)
        answer = await conn.request(method, path, body, headers)
        if conn.usable():
            self._idle.append(conn)
        return answer

    @property
    def opened(self) -> int:
        return len(self._all)

    async def close(self) -> None:
        # A connection the server reset while it was overloaded must not fail the report.
        await asyncio.gather(*(c.close() for c in self._all), return_exceptions=True)


async def wait_for_answer(
    host: str, port: int, path: str, timeout: float, want: int | None = None
) -> Answer:
    """Poll ``GET path`` until the server answers (with ``want``, if given) or time runs out."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            conn = await HttpConnection.open(host, port)
            try:
                answer = await conn.request("GET", path)
            finally:
                await conn.close()
            if want is None or answer.status == want:
                return answer
            last = answer.status
        except (OSError, asyncio.IncompleteReadError) as error:
            last = error
        await asyncio.sleep(0.1)
    raise TimeoutError(f"GET {path} on {host}:{port} did not answer {want or ''} in time: {last}")
