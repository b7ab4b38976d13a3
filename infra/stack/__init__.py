"""Local PostgreSQL, Redis and Kafka for developers, tests and benchmarks.

``python -m infra.stack up|down|status|env`` from a shell, or from Python::

    from infra.stack import ensure_up, check_kafka
    ensure_up()                    # idempotent; safe to call concurrently
    check_kafka("127.0.0.1:9092")  # raises ServiceUnavailable when unhealthy

Addresses come from PHOTOFLOW_DATABASE_URL, PHOTOFLOW_REDIS_URL and PHOTOFLOW_KAFKA_BOOTSTRAP;
data and logs live under PHOTOFLOW_VAR_DIR (default <repo>/var).
"""

from infra.stack.api import down, ensure_up, services, status
from infra.stack.config import Endpoint, StackConfig
from infra.stack.errors import ServiceUnavailable, StackError
from infra.stack.kafka import check_kafka
from infra.stack.postgres import check_postgres
from infra.stack.redis import check_redis
from infra.stack.service import ServiceStatus

__all__ = [
    "Endpoint",
    "ServiceStatus",
    "ServiceUnavailable",
    "StackConfig",
    "StackError",
    "check_kafka",
    "check_postgres",
    "check_redis",
    "down",
    "ensure_up",
    "services",
    "status",
]
