"""A single-node Apache Kafka (KRaft: broker and controller in one JVM) in var/kafka.

There is no Docker here, so the broker runs from its Maven Central jars, fetched once into the
user's cache with the shipped ``kafka-pom.xml``. Events are the system of record, so topics
keep data forever and are never auto-created by a typo'd producer.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from aiokafka.admin import AIOKafkaAdminClient

from infra.stack.config import Endpoint, parse_bootstrap
from infra.stack.errors import ServiceUnavailable
from infra.stack.process import (
    Log,
    build_atomically,
    daemonize,
    exclusive_lock,
    live_pid,
    poll,
    require_command,
    run,
    tcp_answers,
    terminate,
    write_pidfile,
)
from infra.stack.service import Service

KAFKA_VERSION = "4.1.1"  # keep in step with kafka-pom.xml
HERE = Path(__file__).resolve().parent
POM = HERE / "kafka-pom.xml"
LOG4J_CONFIG = HERE / "kafka-log4j2.xml"
MAIN_CLASS = "kafka.Kafka"
STOP_GRACE_SECONDS = 30.0
JVM_OPTIONS = [
    "-Xms512m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
    # Kafka's own shutdown hook logs the clean stop; log4j's hook would close logging first.
    "-Dlog4j2.shutdownHookEnabled=false",
]

SERVER_PROPERTIES = """\
# Written by infra.stack at every start; edit infra/stack/kafka.py instead.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={controller}
listeners=PLAINTEXT://{broker},CONTROLLER://{controller}
advertised.listeners=PLAINTEXT://{broker},CONTROLLER://{controller}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={log_dirs}
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.ms=-1
log.retention.bytes=-1
"""

T = TypeVar("T")


def _run_blocking(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside an event loop
    (pytest-asyncio fixtures call the sync API), by using a private loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def _describe_cluster(bootstrap: str, timeout: float) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=max(1000, int(timeout * 1000))
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
    finally:
        await admin.close()
    if not cluster.get("brokers"):
        raise ServiceUnavailable("metadata lists no broker yet")


def probe_kafka(bootstrap: str, timeout: float = 10.0) -> None:
    """One attempt: a metadata request that must list at least one broker."""
    endpoints = [parse_bootstrap(item) for item in bootstrap.split(",") if item.strip()]
    # A TCP probe first: aiokafka logs an ERROR line for every refused connection.
    if not any(tcp_answers(endpoint) for endpoint in endpoints):
        raise ServiceUnavailable("connection refused")
    _run_blocking(lambda: _describe_cluster(bootstrap, timeout))


def check_kafka(bootstrap: str, timeout: float = 10.0) -> None:
    """Raise ServiceUnavailable unless a metadata request to ``bootstrap`` lists a broker
    within ``timeout`` seconds (retrying: the broker registers a while after it listens)."""
    where = f"kafka at {bootstrap}"
    poll(lambda remaining: probe_kafka(bootstrap, min(remaining, 10.0)), timeout, where)


def new_cluster_id() -> str:
    """Kafka's cluster-id format (22-char URL-safe base64 of a UUID), without a JVM start."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka's Uuid.randomUuid() avoids these too
            return text


class Kafka(Service):
    name: ClassVar[str] = "kafka"
    env_var: ClassVar[str] = "PHOTOFLOW_KAFKA_BOOTSTRAP"
    ready_timeout: ClassVar[float] = 120.0

    @property
    def endpoint(self) -> Endpoint:
        return self.config.kafka

    @property
    def controller(self) -> Endpoint:
        return Endpoint(self.endpoint.host, self.endpoint.port + 1)

    @property
    def home(self) -> Path:
        return self.config.var_dir / "kafka"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def pidfile(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.config.logs_dir / "kafka.log"

    @property
    def cache(self) -> Path:
        return self.config.cache_dir / f"kafka-{KAFKA_VERSION}"

    @property
    def libs(self) -> Path:
        return self.cache / "libs"

    def probe(self, timeout: float) -> None:
        probe_kafka(self.config.kafka_bootstrap, timeout)

    def running_pid(self) -> int | None:
        return live_pid(self.pidfile, MAIN_CLASS)

    def install(self, log: Log) -> None:
        """Fetch the broker jars once per machine; the cache lock serialises repositories."""
        require_command("java", "openjdk-17-jre-headless", log)
        if (self.libs / ".complete").exists():
            return
        mvn = require_command("mvn", "maven", log)
        with exclusive_lock(self.cache.with_name(self.cache.name + ".lock"), log, "a jar download"):

            def fetch(partial: Path) -> None:
                log(f"kafka: fetching Kafka {KAFKA_VERSION} jars with Maven into {self.libs}…")
                shutil.copyfile(POM, self.cache / "pom.xml")
                argv = [mvn, "-B", "-q", "dependency:copy-dependencies"]
                argv += ["-DincludeScope=runtime", f"-DoutputDirectory={partial}"]
                run(argv, "mvn dependency:copy-dependencies", cwd=self.cache, timeout=1800)
                (partial / ".complete").write_text(f"kafka {KAFKA_VERSION}\n")

            self.cache.mkdir(parents=True, exist_ok=True)
            build_atomically(self.libs, ".complete", fetch)

    def _java(self, *args: str) -> list[str]:
        classpath = f"{self.libs}/*"
        return ["java", f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", "-cp", classpath, *args]

    def _properties(self, log_dirs: Path) -> str:
        return SERVER_PROPERTIES.format(
            broker=self.endpoint, controller=self.controller, log_dirs=log_dirs
        )

    def _format(self, partial: Path) -> None:
        """``kafka-storage format --standalone`` once, with the cluster id kept in var/kafka."""
        id_file = self.home / "cluster.id"
        if not id_file.exists():
            id_file.write_text(new_cluster_id() + "\n")
        config = self.home / "format.properties"
        config.write_text(self._properties(partial))
        try:
            argv = self._java("-Xmx256m", "kafka.tools.StorageTool", "format", "--standalone")
            argv += ["-t", id_file.read_text().strip(), "-c", str(config)]
            run(argv, "kafka-storage format", cwd=self.home, timeout=120)
        finally:
            config.unlink(missing_ok=True)

    def start(self, log: Log) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        if build_atomically(self.data_dir, "meta.properties", self._format):
            log(f"kafka: formatted a new KRaft log directory in {self.data_dir}")
        properties = self.home / "server.properties"
        properties.write_text(self._properties(self.data_dir))
        argv = self._java(*JVM_OPTIONS, f"-Dkafka.logs.dir={self.config.logs_dir}")
        argv += [MAIN_CLASS, str(properties)]
        pid = daemonize(argv, self.log_file, cwd=self.home)
        write_pidfile(self.pidfile, pid)

    def stop(self, pid: int, log: Log) -> None:
        """SIGTERM lets the broker flush and close its logs; SIGKILL only after 30 s."""
        terminate(pid, self.name, log, grace=STOP_GRACE_SECONDS)
        self.pidfile.unlink(missing_ok=True)
