"""DLQ topic producer. Entries are produced and flushed *before* the ledger commit that
records them, so a crash can at worst duplicate a DLQ message, never lose one.

Each DLQ message carries the original key and bytes (value None for a tombstone) and headers:
`dlq.reason`, `dlq.detail`, `source.topic`, `source.partition`, `source.offset`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kafka import KafkaProducer

from settlement_aggregate.planning import DlqEntry
from settlement_core.kafka_io import KafkaAccess, client_config, translate_errors

logger = logging.getLogger(__name__)

REASON_HEADER = "dlq.reason"
DETAIL_HEADER = "dlq.detail"
SOURCE_TOPIC_HEADER = "source.topic"
SOURCE_PARTITION_HEADER = "source.partition"
SOURCE_OFFSET_HEADER = "source.offset"


def headers_for(entry: DlqEntry, source_topic: str) -> list[tuple[str, bytes]]:
    return [
        (REASON_HEADER, entry.reason.encode()),
        (DETAIL_HEADER, entry.detail.encode()),
        (SOURCE_TOPIC_HEADER, source_topic.encode()),
        (SOURCE_PARTITION_HEADER, str(entry.partition).encode()),
        (SOURCE_OFFSET_HEADER, str(entry.offset).encode()),
    ]


class DlqProducer:
    def __init__(self, access: KafkaAccess, dlq_topic: str, source_topic: str, timeout_s: float = 10.0) -> None:
        self._access = access
        self._topic = dlq_topic
        self._source = source_topic
        self._timeout_s = timeout_s
        self._producer: KafkaProducer | None = None

    def _get(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                **client_config(self._access),
                client_id="settlement-aggregate-dlq",
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_block_ms=int(self._timeout_s * 1000),
            )
        return self._producer

    def publish(self, entries: Sequence[DlqEntry]) -> None:
        """Send and wait for every acknowledgement; raises KafkaUnavailable when the broker
        is away, and lets a non-retriable error (authorization, record too large) through."""
        if not entries:
            return
        with translate_errors("DLQ produce"):
            producer = self._get()
            futures = [
                producer.send(self._topic, key=e.key, value=e.raw, headers=headers_for(e, self._source))
                for e in entries
            ]
            producer.flush(timeout=self._timeout_s)
            for future in futures:
                future.get(timeout=self._timeout_s)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._timeout_s)
            self._producer = None
