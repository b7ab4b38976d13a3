"""Admitting authenticated requests: revoked? within its rate? One Redis round trip for many.

Every request with a bearer token asks both questions. As two commands they cost two round
trips and two parses per request, about an eighth of the API's CPU under load (py-spy on
``make bench commands``); as one script they cost one. The keys are the ones the revocation
list and the rate limits use on their own, so a revocation and a counter stay one fact each.

Requests that ask in the same turn of the event loop (under load, every request read from the
sockets in one wake-up) go to Redis together, as one pipeline of the script's EVALSHA: one
write and one read for all of them. Each request's own send and receive had become a tenth of
an API process's CPU (py-spy with ``--gil`` on the split platform). The pipeline is packed
here and sent on a connection of the client's pool, without redis-py's pipeline object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from infra.revocations import Revocations
from queries.gate import RedisRateLimit

# KEYS: the session's and the user's revocation keys, then the window's counter.
# ARGV: the counter's lifetime in seconds. Answers {revoked keys found, requests counted}.
_ADMIT = """
local revoked = redis.call('EXISTS', KEYS[1], KEYS[2])
local count = redis.call('INCR', KEYS[3])
if count == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
return {revoked, count}
"""


@dataclass(frozen=True)
class _Asking:
    keys: Sequence[str]
    lifetime: int
    answer: asyncio.Future[list[int]]


class RedisAdmission:
    def __init__(
        self, redis: Redis, revocations: Revocations, limits: Mapping[str, RedisRateLimit]
    ) -> None:
        self._redis = redis
        self._revocations = revocations
        self._limits = dict(limits)
        self._script = redis.register_script(_ADMIT)
        self._asking: list[_Asking] = []
        self._sending: set[asyncio.Task[None]] = set()  # referenced until done

    async def admit(self, user_id: UUID, session_id: UUID, bucket: str) -> bool:
        """Count the request against its rate (429 past it); whether the session is revoked."""
        limit = self._limits[bucket]
        keys = [
            *self._revocations.keys_of(user_id, session_id),
            limit.counter(f"{bucket}:{user_id}"),
        ]
        loop = asyncio.get_running_loop()
        asking = _Asking(keys, limit.counter_lifetime, loop.create_future())
        self._asking.append(asking)
        if len(self._asking) == 1:  # the first of this turn sends them all, once the turn ends
            loop.call_soon(self._send)
        revoked, count = await asking.answer
        limit.check(int(count))
        return bool(revoked)

    def _send(self) -> None:
        task = asyncio.get_running_loop().create_task(self._ask_together())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _ask_together(self) -> None:
        asking, self._asking = self._asking, []
        try:
            answers = await self._evaluate(asking)
        except Exception as error:  # Redis away: every request of the turn learns it
            for a in asking:
                if not a.answer.done():
                    a.answer.set_exception(error)
            return
        for a, answer in zip(asking, answers, strict=True):
            if not a.answer.done():
                a.answer.set_result(answer)

    async def _evaluate(self, asking: list[_Asking]) -> list[list[int]]:
        commands = b"".join(_evalsha(self._script.sha, a.keys, a.lifetime) for a in asking)
        for attempt in (1, 2):
            try:
                return await self._exchange(commands, len(asking))
            except NoScriptError:  # a restarted or flushed Redis: load it, then once more
                if attempt == 2:
                    raise
                await self._redis.script_load(_ADMIT)
        raise AssertionError("unreachable")

    async def _exchange(self, commands: bytes, replies: int) -> list[list[int]]:
        """Send the packed commands on one pooled connection and read their replies.

        redis-py's pipeline spent about 45 µs of the API's CPU per request on its command
        stack, packing and parsing, against about 20 µs this way (hiredis parses the replies).
        A reply that is an error is raised before the ones after it are read: the connection
        is then closed, or the next caller would read those.
        """
        pool = self._redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]

        async def exchange() -> list[list[int]]:
            await connection.send_packed_command(commands)
            return [await connection.read_response() for _ in range(replies)]

        async def closed(_: Exception) -> None:
            await connection.disconnect()

        try:
            # a dropped connection is opened again and asked again, with the client's backoff,
            # as redis-py's own commands are
            answers: list[list[int]] = await connection.retry.call_with_retry(exchange, closed)
            return answers
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)


def _evalsha(sha: str, keys: Sequence[str], lifetime: int) -> bytes:
    """One EVALSHA in the Redis protocol's request form (an array of bulk strings)."""
    parts = [b"EVALSHA", sha.encode(), str(len(keys)).encode()]
    parts += [key.encode() for key in keys]
    parts.append(str(lifetime).encode())
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
