"""Thin typed adapter around kafka-python: lazy connection, typed errors, asyncio bridge.

Every Kafka client of the project (services, settlementctl, bench, tests) is configured from
a `KafkaAccess` through `client_config` (kafka-python), `java_client_properties` (Kafka's own
tools, the Camel bridge) or `librdkafka_config` (Quix Streams): where the brokers are and
which principal this process authenticates as live in one place. The brokers accept
SASL/SCRAM-SHA-512 only and authorise by ACL (docs/security/kafka-and-local.md).

The producer is idempotent with acks=all; `send` resolves only once the broker has
acknowledged the record, so callers may acknowledge their own clients after it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
)
from kafka.partitioner.default import DefaultPartitioner, murmur2
from pydantic import SecretStr

from settlement_core.errors import KafkaUnavailable

if TYPE_CHECKING:
    from settlement_core.settings import CoreSettings

__all__ = [
    "Delivered",
    "EventProducer",
    "KafkaAccess",
    "KafkaUnavailable",
    "admin_client",
    "client_config",
    "ensure_topics",
    "is_retriable",
    "java_client_properties",
    "librdkafka_config",
    "translate_errors",
]

logger = logging.getLogger(__name__)

SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})

# kafka-python warns "Exchanging credentials in the clear" on every SCRAM login without TLS.
# SCRAM sends a salted proof, never the password, so the line says nothing true and would
# be repeated per connection in every service log.
logging.getLogger("kafka.net.sasl.scram").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class KafkaAccess:
    """Where the brokers are and who this client is. `password` never appears in a repr."""

    bootstrap: str
    security_protocol: str = "SASL_PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.security_protocol not in SASL_PROTOCOLS | {"PLAINTEXT", "SSL"}:
            raise ValueError(f"unknown Kafka security protocol {self.security_protocol!r}")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in SASL_PROTOCOLS

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> KafkaAccess:
        return cls(
            bootstrap=settings.kafka_bootstrap,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_username,
            password=settings.kafka_password,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KafkaAccess:
        """From the variables CoreSettings reads (KAFKA_BOOTSTRAP, KAFKA_SECURITY_PROTOCOL,
        KAFKA_SASL_MECHANISM, KAFKA_USERNAME, KAFKA_PASSWORD), e.g. a stack.env."""
        password = env.get("KAFKA_PASSWORD")
        return cls(
            bootstrap=env["KAFKA_BOOTSTRAP"],
            security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            username=env.get("KAFKA_USERNAME") or None,
            password=SecretStr(password) if password else None,
        )

    def as_principal(self, username: str | None, password: str | None) -> KafkaAccess:
        """The same brokers, another principal (None, None: no credentials at all)."""
        return KafkaAccess(
            self.bootstrap,
            self.security_protocol,
            self.sasl_mechanism,
            username,
            SecretStr(password) if password is not None else None,
        )


def client_config(access: KafkaAccess) -> dict[str, Any]:
    """Connection and authentication keyword arguments of every kafka-python client
    (KafkaProducer, KafkaConsumer, KafkaAdminClient); callers add their own tuning."""
    config: dict[str, Any] = {
        "bootstrap_servers": access.bootstrap.split(","),
        "security_protocol": access.security_protocol,
    }
    if access.uses_sasl:
        config["sasl_mechanism"] = access.sasl_mechanism
        config["sasl_plain_username"] = access.username
        config["sasl_plain_password"] = access.password.get_secret_value() if access.password else None
    return config


def java_client_properties(access: KafkaAccess) -> dict[str, str]:
    """The same as Java client properties (Kafka's perf tools, the Camel bridge)."""
    props = {"bootstrap.servers": access.bootstrap, "security.protocol": access.security_protocol}
    if access.uses_sasl:
        module = (
            "org.apache.kafka.common.security.plain.PlainLoginModule"
            if access.sasl_mechanism == "PLAIN"
            else "org.apache.kafka.common.security.scram.ScramLoginModule"
        )
        secret = access.password.get_secret_value() if access.password else ""
        props["sasl.mechanism"] = access.sasl_mechanism
        props["sasl.jaas.config"] = f'{module} required username="{access.username or ""}" password="{secret}";'
    return props


def librdkafka_config(access: KafkaAccess) -> dict[str, str]:
    """The same for librdkafka clients (confluent-kafka, Quix Streams)."""
    config = {"bootstrap.servers": access.bootstrap, "security.protocol": access.security_protocol.lower()}
    if access.uses_sasl:
        config["sasl.mechanism"] = access.sasl_mechanism
        config["sasl.username"] = access.username or ""
        config["sasl.password"] = access.password.get_secret_value() if access.password else ""
    return config


def admin_client(access: KafkaAccess, **tuning: Any) -> KafkaAdminClient:
    return KafkaAdminClient(**client_config(access), **tuning)


# kafka-python's per-record cost falls steeply with bigger batches (measured here: 37 µs a
# record at the 16 KiB default, 14 µs at 256 KiB): an HTTP batch of 1000 events for one bank
# goes to one partition and fits in one or two produce batches instead of sixty. Must stay
# at most max.request.size (1 MiB) on both sides.
PRODUCER_BATCH_BYTES = 512 * 1024


class KeyHashCachingPartitioner(DefaultPartitioner):  # type: ignore[misc]
    """kafka-python's default (murmur2 of the key, as the Java client) with the hash of each
    key remembered: keys are bank ids, a small set, and the pure-Python murmur2 ran once per
    record."""

    _MAX_KEYS = 100_000

    def __init__(self) -> None:
        super().__init__()
        self._hashes: dict[bytes, int] = {}

    def partition(
        self,
        topic: str,
        key: object,
        serialized_key: bytes | None,
        value: object,
        serialized_value: bytes | None,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        if topic not in cluster.topics():
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        hashed = self._hashes.get(serialized_key)
        if hashed is None:
            if len(self._hashes) >= self._MAX_KEYS:
                self._hashes.clear()
            hashed = self._hashes[serialized_key] = murmur2(serialized_key) & 0x7FFFFFFF
        partitions = sorted(cluster.partitions_for_topic(topic))
        return int(partitions[hashed % len(partitions)])


def is_retriable(exc: BaseException) -> bool:
    """True for errors kafka-python marks retriable and for connection failures; an
    authorization failure, an invalid topic or a record too large is not and stays fatal."""
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Retriable client errors become KafkaUnavailable; any other KafkaError propagates
    unchanged, so the caller crashes instead of waiting it out."""
    try:
        yield
    except KafkaError as exc:
        if is_retriable(exc):
            raise KafkaUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        raise


@dataclass(frozen=True, slots=True)
class Delivered:
    partition: int
    offset: int


class EventProducer:
    """Connects on first use; reconnects by itself after a broker outage."""

    def __init__(
        self,
        access: KafkaAccess,
        *,
        timeout_s: float = 5.0,
        linger_ms: int = 2,
        batch_bytes: int = PRODUCER_BATCH_BYTES,
        client_id: str = "settlement",
    ) -> None:
        self._access = access
        self._timeout_s = timeout_s
        self._linger_ms = linger_ms
        self._batch_bytes = batch_bytes
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        # Set when the client expired records (delivery timeout). kafka-python's idempotent
        # producer does not always recover from that: a batch that expired in flight leaves
        # a sequence gap for its partition and later sends there are never acknowledged
        # (reproduced with a broker outage longer than the delivery timeout). A fresh client
        # gets a new producer id and clean sequences.
        self._replace = False

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._replace and self._producer is not None:
                logger.warning("replacing the Kafka producer after expired records")
                stale, self._producer = self._producer, None
                # Records still queued there fail now; their callers see them as not
                # delivered (a record the broker did write is then a duplicate for the
                # ledger's unique key, never a loss).
                _abandon(stale)
            self._replace = False
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        **client_config(self._access),
                        client_id=self._client_id,
                        acks="all",
                        enable_idempotence=True,
                        linger_ms=self._linger_ms,
                        batch_size=self._batch_bytes,
                        partitioner=KeyHashCachingPartitioner(),
                        max_block_ms=int(self._timeout_s * 1000),
                        request_timeout_ms=max(1000, int(self._timeout_s * 1000)),
                        # Bounded, so that intake's pending claims (30 s) outlive any record still queued.
                        delivery_timeout_ms=max(20_000, int(self._timeout_s * 1000) * 3),
                        retry_backoff_ms=100,
                        reconnect_backoff_max_ms=1000,
                        compression_type=None,
                    )
                except KafkaError as exc:
                    raise KafkaUnavailable(f"kafka unreachable at {self._access.bootstrap}: {exc}") from exc
            return self._producer

    async def send_many(
        self,
        topic: str,
        records: list[tuple[bytes, bytes]],
        on_late_outcome: Callable[[list[bool]], None] | None = None,
    ) -> list[Delivered]:
        """Send and wait for every acknowledgement, bounded by the configured timeout.

        Raises `KafkaUnavailable` whose `delivered` tells, per record, which ones the broker
        did acknowledge (so a caller can keep those and retry only the rest). When the bound
        expires while records are still queued in the client, they may yet be delivered:
        `delivered` is then None and `on_late_outcome` is called on the event loop with the
        final per-record outcome once every record has settled, so the caller never treats a
        record as lost that in fact reached the topic.
        """
        loop = asyncio.get_running_loop()
        batch = _BatchOutcome(loop, len(records))

        def start_sends() -> None:
            # send() may block on metadata while the broker is away: run it off the loop.
            producer = self._get()
            for index, (key, value) in enumerate(records):
                try:
                    future = producer.send(topic, key=key, value=value)
                except KafkaError as exc:
                    for rest in range(index, len(records)):
                        batch.settle(rest, None, exc)
                    return
                future.add_callback(lambda md, i=index: batch.settle(i, Delivered(md.partition, md.offset), None))
                future.add_errback(lambda exc, i=index: self._failed(batch, i, exc))

        try:
            async with asyncio.timeout(self._timeout_s):
                if self._knows_partitions(topic):
                    start_sends()  # only appends to in-memory batches: a thread hop costs more
                else:
                    await loop.run_in_executor(None, start_sends)
                await asyncio.shield(batch.done)
        except TimeoutError as exc:
            if on_late_outcome is not None:
                if batch.done.done():  # settled in the very iteration the bound expired
                    on_late_outcome([r is not None for r in batch.results])
                else:
                    batch.on_late = on_late_outcome
            raise KafkaUnavailable(f"no acknowledgement within {self._timeout_s}s") from exc
        except KafkaUnavailable:
            raise
        if batch.failure is not None:
            raise KafkaUnavailable(str(batch.failure), [r is not None for r in batch.results])
        return [r for r in batch.results if r is not None]

    def _failed(self, batch: _BatchOutcome, index: int, exc: BaseException) -> None:
        if isinstance(exc, KafkaTimeoutError):  # only expiry fails a record this way
            self._replace = True
        batch.settle(index, None, exc)

    def _knows_partitions(self, topic: str) -> bool:
        """True when send() cannot block: kafka-python waits (up to max_block_ms) only for
        metadata of a topic it does not know yet. There is no public non-blocking query."""
        producer = self._producer
        return producer is not None and not self._replace and producer._metadata.partitions_for_topic(topic) is not None

    def send_sync(self, topic: str, key: bytes | None, value: bytes) -> Delivered:
        try:
            metadata = self._get().send(topic, key=key, value=value).get(timeout=self._timeout_s)
        except KafkaError as exc:
            raise KafkaUnavailable(str(exc)) from exc
        return Delivered(metadata.partition, metadata.offset)

    def flush(self) -> None:
        if self._producer is not None:
            self._producer.flush(timeout=self._timeout_s)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self._timeout_s)
                self._producer = None


def _abandon(producer: KafkaProducer) -> None:
    """Stop a producer now, failing whatever it still holds. kafka-python's close(0) first
    flushes, and raises when records are stuck, without ever stopping its sender thread."""
    try:
        producer.close(timeout=0)
    except KafkaError:
        producer._sender.force_close()  # fails the queued records' futures, ends the thread


class _BatchOutcome:
    """Collects per-record outcomes from the producer's I/O thread for one send_many call."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._remaining = size
        self.results: list[Delivered | None] = [None] * size
        self.failure: BaseException | None = None
        self.done: asyncio.Future[None] = loop.create_future()
        self.on_late: Callable[[list[bool]], None] | None = None
        if size == 0:
            self.done.set_result(None)

    def settle(self, index: int, delivered: Delivered | None, exc: BaseException | None) -> None:
        with self._lock:
            self.results[index] = delivered
            if exc is not None and self.failure is None:
                self.failure = exc
            self._remaining -= 1
            finished = self._remaining == 0
        if finished:
            self._loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        # Runs on the event loop, so it cannot interleave with the timeout handler.
        if not self.done.done():
            self.done.set_result(None)
        if self.on_late is not None:
            self.on_late([r is not None for r in self.results])


def ensure_topics(
    access: KafkaAccess,
    topics: dict[str, int],
    timeout_s: float = 30.0,
    *,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> None:
    """Create topics with explicit partition counts and replication; existing topics are
    left alone."""
    try:
        admin = admin_client(access, client_id="settlement-admin", request_timeout_ms=int(timeout_s * 1000))
    except KafkaError as exc:
        if not is_retriable(exc):
            raise  # e.g. authentication failed: waiting will not help
        raise KafkaUnavailable(f"kafka unreachable at {access.bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=n,
                replication_factor=replication_factor,
                topic_configs={
                    "min.insync.replicas": str(min_insync_replicas),
                    "unclean.leader.election.enable": "false",
                },
            )
            for name, n in topics.items()
            if name not in existing
        ]
        if wanted:
            # Another process may have created one in the meantime: that is success too.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted, timeout_ms=int(timeout_s * 1000))
            logger.info("topics created", extra={"topics": [t.name for t in wanted]})
    finally:
        admin.close()
