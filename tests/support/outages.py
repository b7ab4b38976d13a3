"""Stopping and starting the local PostgreSQL or Kafka under a running platform.

Only a server this stack started can be stopped; a test that needs it skips when the user
pointed PhotoFlow at a server of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from infra.stack import StackConfig, services
from infra.stack.service import Service


def _service(name: str) -> Service:
    [service] = [s for s in services(StackConfig.from_env()) if s.name == name]
    if service.running_pid() is None:
        pytest.skip(f"{name} was not started by this stack, so a test may not stop it")
    return service


@asynccontextmanager
async def stopped(name: str) -> AsyncIterator[None]:
    """``name`` (``postgres`` or ``kafka``) is down inside the block, and up again after it."""
    service = _service(name)
    pid = service.running_pid()
    assert pid is not None
    await asyncio.to_thread(service.stop, pid, lambda line: None)
    try:
        yield
    finally:
        await asyncio.to_thread(service.ensure, lambda line: None)
