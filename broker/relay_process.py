"""The relay's messages built in a second process, so that building and sending use two cores.

The relay's process selects the stored rows (cheap: asyncpg, in C) and sends the messages to
Kafka (a producer's ``send`` is about as costly as building the message it sends). Building
them (parsing, decrypting, upcasting, describing, encoding) is the other half of the CPU; done
here, in a child process, it runs beside the sending instead of between sends.

The child is ``python -m broker.relay_process``, spoken to over its stdin and stdout in
length-prefixed pickles: first the sources (each application's class and environment, so the
child makes the very same mapper: same transcodings, cipher key, compressor, upcasting; the
environment travels over the pipe, never on a command line), then one request per batch of
rows, answered in order with the messages and each one's key hash (the partitioner's
murmur2, so the sending process only picks the partition). The child holds no database
connection: its applications are made on the in-memory store, only their mappers are used.
It exits when its stdin closes, so it ends with the relay however the relay ends (even
killed).

Nothing about order or positions happens here: the relay asks for each source's batches in
order, publishes them in that order and stores positions itself, only after Kafka
acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import pickle
import signal
import struct
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from aiokafka.partitioner import murmur2
from eventsourcing.application import Application
from eventsourcing.utils import get_topic, resolve_topic

from broker.relay_copy import rows
from broker.relay_envelopes import Batch, MessageBuilder

log = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
_REPO = Path(__file__).resolve().parents[1]
_STREAM_LIMIT = 1 << 30  # a batch's messages arrive as one frame
_PIPE_SIZE = 1 << 20  # Linux's default ceiling for an unprivileged process


def _source_spec(app: Application[UUID], topic_prefix: str) -> tuple[str, dict[str, str], str]:
    """What the child needs to make the same mapper: the class, its environment, the prefix."""
    return get_topic(type(app)), dict(app.env), topic_prefix


class BuilderProcess:
    """The parent's side: starts the child, hands it rows, gets the messages back in order."""

    def __init__(self, sources: Sequence[tuple[str, Application[UUID], str]]) -> None:
        """``sources``: each source's name, application and topic prefix."""
        self._specs = {name: _source_spec(app, prefix) for name, app, prefix in sources}
        self._child: asyncio.subprocess.Process | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._reading: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._failed: BaseException | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id, once started."""
        return self._child.pid if self._child is not None else None

    @property
    def pending(self) -> int:
        """Requests not answered yet."""
        return len(self._waiting)

    @property
    def ready(self) -> bool:
        """Started and answering; until then the relay builds in its own process."""
        return self._ready.is_set() and self._failed is None

    async def start(self) -> None:
        """Start the child and wait until it has made its mappers (about a second)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
        self._child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "broker.relay_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=_REPO,
            env=env,
            limit=_STREAM_LIMIT,
        )
        self._reading = asyncio.create_task(self._read_answers(), name="relay-builder-answers")
        started: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(started)
        self._write(self._specs)
        await started  # the child answers the sources with an empty list once they are made
        self._ready.set()

    def submit(self, source: str, copied: bytes) -> asyncio.Future[Batch]:
        """The messages of one source's rows (a binary COPY, ``broker.relay_copy``), to be
        built in the child, with the position they reach and each one's key hash
        (``key_hash``). Answers come in the order of the requests."""
        answer: asyncio.Future[Batch] = asyncio.get_running_loop().create_future()
        if self._failed is not None:
            answer.set_exception(RuntimeError(f"the relay's builder process: {self._failed!r}"))
            return answer
        self._waiting.append(answer)
        self._write((source, copied))
        return answer

    async def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 5)
        except TimeoutError:
            child.kill()
            await child.wait()
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)
        self._failed = self._failed or ConnectionResetError("the relay's builder process closed")
        while self._waiting:  # nobody waits for these any more: no error to report
            self._waiting.popleft().cancel()

    def _write(self, message: object) -> None:
        """Written at once, in order (the transport buffers what the pipe cannot take yet; the
        relay keeps at most a few batches in flight)."""
        child = self._child
        if child is None or child.stdin is None:
            raise RuntimeError("the relay's builder process is not running")
        payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        child.stdin.write(_LENGTH.pack(len(payload)) + payload)

    async def _read_answers(self) -> None:
        assert self._child is not None and self._child.stdout is not None
        stdout = self._child.stdout
        try:
            while True:
                (length,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
                answer = pickle.loads(await stdout.readexactly(length))
                waiting = self._waiting.popleft()
                if waiting.done():  # given up on (the relay is stopping)
                    continue
                if isinstance(answer, BaseException):
                    waiting.set_exception(answer)
                else:
                    waiting.set_result(Batch(*answer) if isinstance(answer, tuple) else answer)
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            self._fail(ConnectionResetError(f"the relay's builder process ended: {e!r}"))
        except BaseException as e:
            self._fail(e)
            raise

    def _fail(self, error: BaseException) -> None:
        self._failed = self._failed or error
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(error)


@functools.lru_cache(maxsize=65_536)
def key_hash(key: bytes) -> int:
    """What aiokafka's ``DefaultPartitioner`` reduces modulo the partition count: murmur2 of
    the key, as the Java client computes it. Cached: an aggregate's events share its key."""
    return int(murmur2(key)) & 0x7FFFFFFF


# the child's side ---------------------------------------------------------------------------


def _read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None  # the relay closed our stdin (or ended): so do we
    (length,) = _LENGTH.unpack(head)
    return pickle.loads(stream.read(length))


def _write_frame(stream: IO[bytes], message: object) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _builders(specs: dict[str, tuple[str, dict[str, str], str]]) -> dict[str, MessageBuilder]:
    builders: dict[str, MessageBuilder] = {}
    for name, (class_topic, env, prefix) in specs.items():
        cls = resolve_topic(class_topic)
        # the same class and environment, on the in-memory store: the mapper, no connection
        app = cls(env={**env, "PERSISTENCE_MODULE": "eventsourcing.popo"})
        builders[name] = MessageBuilder(app, prefix)
    return builders


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer the relay's requests until it closes ``requests``."""
    specs = _read_frame(requests)
    if specs is None:
        return
    builders = _builders(specs)
    _write_frame(answers, [])
    while True:
        request = _read_frame(requests)
        if request is None:
            return
        source, copied = request
        try:
            found = rows(copied)
            messages = builders[source].build(found)
            answer: object = (found[-1][0], messages, [key_hash(m[1]) for m in messages])
        except Exception as e:  # the relay raises it, and is restarted
            answer = e
        _write_frame(answers, answer)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Ctrl-C reaches the whole process group: the relay decides when to stop, and then closes
    # our stdin (or dies, which closes it too)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # nothing printed by accident may corrupt the answers: stdout is stderr from here on
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for pipe in (sys.stdin.fileno(), answers.fileno()):
        # a whole batch fits in the pipe: neither side waits for the other to read it
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
