"""Logs a person can read: a client library that repeats itself is heard once in a while.

aiokafka logs an ERROR for every reconnection attempt while a broker is down (tens of
thousands of lines in a minute). Our own outage messages (``broker.failure_policy.OutageLog``)
already say that a dependency is down and for how long; the library's repeats are kept to one
line per kind every ``every`` seconds, with a count of what was left out.
"""

from __future__ import annotations

import logging
import time


class QuietRepeats(logging.Filter):
    """Lets one record per (logger, message template) through every ``every`` seconds."""

    def __init__(self, prefix: str, every: float = 30.0) -> None:
        super().__init__()
        self._prefix = prefix
        self._every = every
        self._last: dict[tuple[str, str], float] = {}
        self._left_out: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefix):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self._last.get(key, -self._every) < self._every:
            self._left_out[key] = self._left_out.get(key, 0) + 1
            return False
        self._last[key] = now
        left_out = self._left_out.pop(key, 0)
        if left_out:
            record.msg = f"{record.msg} ({left_out} more like it in the last {self._every:.0f} s)"
        return True


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    quiet = QuietRepeats("aiokafka")
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
