"""The one bring-up / stop / status flow shared by every local service.

Each service module subclasses :class:`Service` and fills in only what differs (how to
install, start, stop and health-check it). The decision logic lives here once:

* ours already running (live pidfile in var/)  -> wait until healthy, do not start twice;
* the address answers but is not ours           -> verify the protocol, leave it alone;
* nothing answers on a loopback address         -> install if missing, start, wait healthy;
* nothing answers on another host               -> fail: we never start remote servers.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from infra.stack.config import Endpoint, StackConfig
from infra.stack.errors import StackError
from infra.stack.process import Log, poll, tail, tcp_answers

EXTERNAL_CHECK_TIMEOUT = 10.0
STATUS_CHECK_TIMEOUT = 3.0


@dataclass(frozen=True)
class ServiceStatus:
    """One line of ``status``: is the address healthy, and did this stack start it."""

    name: str
    endpoint: Endpoint
    answering: bool
    our_pid: int | None
    detail: str = ""

    def line(self) -> str:
        state = "answering" if self.answering else "NOT answering"
        if self.our_pid is not None:
            owner = f"started by us (pid {self.our_pid})"
        else:
            owner = "external" if self.answering else "not started"
        extra = f" ({self.detail})" if self.detail and not self.answering else ""
        return f"{self.name:<9} {self.endpoint!s:<22} {state:<13} {owner}{extra}"


class Service(ABC):
    """A server the developer stack can verify, start and stop."""

    name: ClassVar[str]
    env_var: ClassVar[str]
    ready_timeout: ClassVar[float]

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    # -- what each service must say -------------------------------------------------------

    @property
    @abstractmethod
    def endpoint(self) -> Endpoint:
        """Address the clients dial (from the PHOTOFLOW_* variable)."""

    @property
    @abstractmethod
    def log_file(self) -> Path:
        """Where the server's own output goes, quoted in error messages."""

    @abstractmethod
    def probe(self, timeout: float) -> None:
        """One protocol-level health check (SELECT 1, PING, metadata); raise when unhealthy."""

    @abstractmethod
    def running_pid(self) -> int | None:
        """Pid of the server this stack started from var/, if it is alive."""

    @abstractmethod
    def install(self, log: Log) -> None:
        """Make the server's programs available (apt, Maven); no-op when already there."""

    @abstractmethod
    def start(self, log: Log) -> None:
        """Initialise data on first use and start the server in the background."""

    @abstractmethod
    def stop(self, pid: int, log: Log) -> None:
        """Stop our server cleanly, keeping its data."""

    def prepare(self, log: Log) -> None:
        """Hook run once our server is up, before the health check (e.g. create roles)."""
        return None

    # -- the shared flow ------------------------------------------------------------------

    def ensure(self, log: Log) -> None:
        """Make this service answer, starting our own copy only when nothing answers."""
        started = time.monotonic()
        endpoint = self.endpoint
        pid = self.running_pid()
        if pid is not None:
            with self._quoting_log():
                self.prepare(log)
                self.wait_ready(self.ready_timeout)
            log(f"{self.name}: already running on {endpoint} (started by us, pid {pid})")
            return
        if tcp_answers(endpoint):
            self._accept_external(log, "external, left alone")
            return
        if not endpoint.is_loopback:
            raise StackError(
                f"{endpoint} does not answer and is not a loopback address, so it is not "
                f"started here: start that server or point {self.env_var} elsewhere"
            )
        self.install(log)
        if tcp_answers(endpoint):  # e.g. Debian's package just started its own server
            self._accept_external(log, "started by the package install, left alone")
            return
        log(f"{self.name}: starting…")
        with self._quoting_log():
            self.start(log)
            self.prepare(log)
            self.wait_ready(self.ready_timeout)
        elapsed = time.monotonic() - started
        log(f"{self.name}: ready on {endpoint} ({elapsed:.1f} s)")

    @contextlib.contextmanager
    def _quoting_log(self) -> Iterator[None]:
        """Errors about *our* server carry the tail of its log, which usually says why."""
        try:
            yield
        except StackError as exc:
            raise StackError(
                f"{exc}\n--- last lines of {self.log_file} ---\n{tail(self.log_file)}"
            ) from exc

    def check(self, timeout: float) -> None:
        """Retry :meth:`probe` for up to ``timeout`` seconds; raise ServiceUnavailable."""
        poll(self._probe_within, timeout, f"{self.name} on {self.endpoint}")

    def wait_ready(self, timeout: float) -> None:
        """Like :meth:`check`, but give up at once if our server process dies."""

        def alive() -> bool:
            return self.running_pid() is not None

        poll(self._probe_within, timeout, f"{self.name} on {self.endpoint}", alive=alive)

    def _probe_within(self, remaining: float) -> None:
        self.probe(min(remaining, 5.0))

    def _accept_external(self, log: Log, how: str) -> None:
        try:
            self.check(EXTERNAL_CHECK_TIMEOUT)
        except StackError as exc:
            raise StackError(
                f"something answers TCP on {self.endpoint} but it is not a healthy "
                f"{self.name} for {self.env_var}: {exc}"
            ) from exc
        log(f"{self.name}: already answering on {self.endpoint} ({how})")

    def shutdown(self, log: Log) -> None:
        """``down`` for this service: stop it only if this stack started it."""
        pid = self.running_pid()
        if pid is None:
            answering = tcp_answers(self.endpoint)
            how = "external, left alone" if answering else "not running"
            log(f"{self.name}: {how}")
            return
        log(f"{self.name}: stopping pid {pid}…")
        self.stop(pid, log)
        log(f"{self.name}: stopped (data kept)")

    def status(self) -> ServiceStatus:
        pid = self.running_pid()
        detail = ""
        answering = tcp_answers(self.endpoint)
        if answering:
            try:
                self.check(STATUS_CHECK_TIMEOUT)
            except StackError as exc:
                answering, detail = False, str(exc)
        return ServiceStatus(self.name, self.endpoint, answering, pid, detail)
