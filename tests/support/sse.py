"""Reading a Server-Sent Events stream through httpx, as a browser's EventSource would.

The parser follows the WHATWG rules the tests rely on: ``event``, ``id``, ``data`` and ``retry``
fields, comments (``: keep-alive``) ignored, and a block with an ``id`` but no ``data`` updating
the last event id without dispatching anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class SseMessage:
    event: str
    id: str | None
    data: str

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = orjson.loads(self.data)
        return decoded


@dataclass
class SseReader:
    response: httpx.Response
    last_event_id: str | None = None
    retry: int | None = None
    comments: int = 0
    _lines: AsyncIterator[str] | None = field(default=None, repr=False)

    async def opened(self, timeout: float = 10.0) -> None:
        """Read until the server's ``retry:`` line: from then on the stream misses nothing."""
        async with asyncio.timeout(timeout):
            while self.retry is None:
                await self._block()

    async def next(self, timeout: float = 10.0) -> SseMessage:
        """The next dispatched message; TimeoutError if none comes in time."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self._block()
                if message is not None:
                    return message

    async def until(
        self, done: Callable[[SseMessage], bool], timeout: float = 30.0
    ) -> list[SseMessage]:
        """Every message up to and including the first for which ``done`` is true."""
        seen: list[SseMessage] = []
        async with asyncio.timeout(timeout):
            while True:
                message = await self.next(timeout)
                seen.append(message)
                if done(message):
                    return seen

    async def _block(self) -> SseMessage | None:
        """One block (up to a blank line): a message, or None for comments and id-only blocks."""
        if self._lines is None:
            self._lines = self.response.aiter_lines()
        event, data, ident = "message", [], None
        saw_field = False
        async for line in self._lines:
            if line == "":
                if not saw_field:
                    continue
                if ident is not None:
                    self.last_event_id = ident
                if not data:
                    return None
                return SseMessage(event, self.last_event_id, "\n".join(data))
            if line.startswith(":"):
                self.comments += 1
                continue
            saw_field = True
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                ident = value
            elif name == "retry" and value.isdigit():
                self.retry = int(value)
        raise EOFError("the stream ended")


@asynccontextmanager
async def sse(
    http: httpx.AsyncClient,
    url: str,
    params: dict[str, str] | None = None,
    last_event_id: str | None = None,
) -> AsyncIterator[SseReader]:
    """An open stream (asserted 200 and ``text/event-stream``), closed on the way out."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    timeout = httpx.Timeout(10.0, read=60.0)
    async with http.stream("GET", url, params=params, headers=headers, timeout=timeout) as answer:
        if answer.status_code != 200:
            await answer.aread()
            raise AssertionError(f"{url}: {answer.status_code} {answer.text}")
        assert answer.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(answer)
        await reader.opened()
        yield reader
