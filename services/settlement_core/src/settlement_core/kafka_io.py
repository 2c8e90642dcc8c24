"""Thin typed adapter around kafka-python: lazy connection, typed errors, asyncio bridge.

The producer is idempotent with acks=all; `send` resolves only once the broker has
acknowledged the record, so callers may acknowledge their own clients after it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

logger = logging.getLogger(__name__)


class KafkaUnavailable(RuntimeError):
    """The broker could not be reached or did not acknowledge in time (retryable)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    partition: int
    offset: int


class EventProducer:
    """Connects on first use; reconnects by itself after a broker outage."""

    def __init__(self, bootstrap: str, *, timeout_s: float = 5.0, linger_ms: int = 2,
                 client_id: str = "settlement") -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._linger_ms = linger_ms
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self._bootstrap.split(","),
                        client_id=self._client_id,
                        acks="all",
                        enable_idempotence=True,
                        linger_ms=self._linger_ms,
                        max_block_ms=int(self._timeout_s * 1000),
                        request_timeout_ms=max(1000, int(self._timeout_s * 1000)),
                        delivery_timeout_ms=max(30_000, int(self._timeout_s * 1000) * 3),
                        retry_backoff_ms=100,
                        reconnect_backoff_max_ms=1000,
                        compression_type=None,
                    )
                except KafkaError as exc:
                    raise KafkaUnavailable(f"kafka unreachable at {self._bootstrap}: {exc}") from exc
            return self._producer

    def send_future(self, topic: str, key: bytes, value: bytes) -> Any:
        """Start a send; returns kafka-python's FutureRecordMetadata."""
        try:
            return self._get().send(topic, key=key, value=value)
        except KafkaError as exc:
            raise KafkaUnavailable(str(exc)) from exc

    async def send_many(self, topic: str, records: list[tuple[bytes, bytes]]) -> list[Delivered]:
        """Send and wait for every acknowledgement, bounded by the configured timeout."""
        loop = asyncio.get_running_loop()
        waiters: list[asyncio.Future[Delivered]] = []

        def bridge(future: Any) -> asyncio.Future[Delivered]:
            waiter: asyncio.Future[Delivered] = loop.create_future()

            def ok(metadata: Any) -> None:
                loop.call_soon_threadsafe(_settle, waiter, Delivered(metadata.partition, metadata.offset), None)

            def failed(exc: BaseException) -> None:
                loop.call_soon_threadsafe(_settle, waiter, None, exc)

            future.add_callback(ok)
            future.add_errback(failed)
            return waiter

        try:
            async with asyncio.timeout(self._timeout_s):
                # send() may block on metadata while the broker is away; keep the loop free.
                futures = await loop.run_in_executor(
                    None, lambda: [self.send_future(topic, k, v) for k, v in records])
                waiters = [bridge(f) for f in futures]
                return list(await asyncio.gather(*waiters))
        except TimeoutError as exc:
            raise KafkaUnavailable(f"no acknowledgement within {self._timeout_s}s") from exc
        except KafkaError as exc:
            raise KafkaUnavailable(str(exc)) from exc
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()

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


def _settle(waiter: asyncio.Future[Delivered], result: Delivered | None, exc: BaseException | None) -> None:
    if waiter.done():
        return
    if exc is not None:
        waiter.set_exception(KafkaUnavailable(str(exc)))
    elif result is not None:
        waiter.set_result(result)


def ensure_topics(bootstrap: str, topics: dict[str, int], timeout_s: float = 30.0) -> None:
    """Create topics with explicit partition counts; existing topics are left alone."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="settlement-admin",
                                 request_timeout_ms=int(timeout_s * 1000))
    except KafkaError as exc:
        raise KafkaUnavailable(f"kafka unreachable at {bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(name, num_partitions=n, replication_factor=1,
                           topic_configs={"min.insync.replicas": "1"})
                  for name, n in topics.items() if name not in existing]
        if wanted:
            # Another process may have created one in the meantime: that is success too.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted, timeout_ms=int(timeout_s * 1000))
            logger.info("topics created", extra={"topics": [t.name for t in wanted]})
    finally:
        admin.close()
