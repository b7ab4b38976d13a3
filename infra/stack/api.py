"""The stack as a whole: bring every service up or down under one lock.

``ensure_up`` is what tests and the app call; the CLI in ``__main__`` is a thin shell over it.
"""

from __future__ import annotations

from infra.stack.config import StackConfig
from infra.stack.errors import StackError
from infra.stack.kafka import Kafka
from infra.stack.postgres import Postgres
from infra.stack.process import Log, exclusive_lock
from infra.stack.redis import Redis
from infra.stack.service import Service, ServiceStatus


def _print(line: str) -> None:
    print(line, flush=True)


def services(config: StackConfig) -> list[Service]:
    """The services in start order (Kafka last: it is the slowest to become ready)."""
    return [Postgres(config), Redis(config), Kafka(config)]


def ensure_up(config: StackConfig | None = None, log: Log = _print) -> None:
    """Make PostgreSQL, Redis and Kafka answer, starting local copies where nothing answers.

    Every service is attempted even if an earlier one fails, so one run reports every
    problem; the raised StackError names each failed service with the tail of its log.
    """
    config = config or StackConfig.from_env()
    failures: list[str] = []
    with exclusive_lock(config.lock_file, log):
        for service in services(config):
            try:
                service.ensure(log)
            except (StackError, OSError) as exc:  # OSError: e.g. no permission on var/
                log(f"{service.name}: FAILED")
                failures.append(f"{service.name} failed: {exc}")
    if failures:
        raise StackError("\n\n".join(failures))


def down(config: StackConfig | None = None, log: Log = _print) -> None:
    """Stop the services this stack started (found by pidfile), keeping their data."""
    config = config or StackConfig.from_env()
    failures: list[str] = []
    with exclusive_lock(config.lock_file, log):
        for service in reversed(services(config)):
            try:
                service.shutdown(log)
            except (StackError, OSError) as exc:
                log(f"{service.name}: FAILED")
                failures.append(f"{service.name} failed to stop: {exc}")
    if failures:
        raise StackError("\n\n".join(failures))


def status(config: StackConfig | None = None) -> list[ServiceStatus]:
    """Read-only, so it takes no lock and can run while ``up`` is busy."""
    config = config or StackConfig.from_env()
    return [service.status() for service in services(config)]
