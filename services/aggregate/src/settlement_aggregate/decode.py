"""Step 1: split raw Kafka records into valid events and invalid (poison) messages.

Pure: no I/O. An invalid message is never retried; it goes to the DLQ with a reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from settlement_core.events import DecodedMessage, Envelope, InvalidEvent, decode_message
from settlement_core.events.poll_decoder import decode_poll
from settlement_core.money import AmountError
from settlement_core.vocabulary import DlqReason

# ledger_effects.amount_minor is a PostgreSQL bigint and Redis HINCRBY is 64-bit signed.
_MAX_MINOR = 2**63 - 1


class Record(Protocol):
    """What classify reads of a record: a `Received`, or kafka-python's ConsumerRecord as
    polled (the loop passes those straight through instead of copying each one)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class Received:
    """One record as it came off the topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Valid:
    partition: int
    offset: int
    key: bytes | None
    raw: bytes  # kept for the DLQ should the event turn out to conflict or mismatch
    envelope: Envelope
    body_hash: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    partition: int
    offset: int
    key: bytes | None
    raw: bytes | None
    reason: DlqReason
    detail: str
    # Known when the message decoded but is refused for who it names (unknown_bank).
    bank_id: str | None = None
    event_id: str | None = None


def classify(record: Record, categories: Collection[str]) -> Valid | InvalidRecord:
    """One record on its own (`split` decodes a whole poll at once, with equal results).

    `categories`: the catalogue's codes (an event naming another is invalid)."""
    try:
        # decode_message() checks the amount's decimals against the currency (an amount
        # with sub-minor digits is refused, never rounded) and gives its exact minor units.
        decoded: DecodedMessage | InvalidEvent = decode_message(record.value, categories)
    except InvalidEvent as exc:
        decoded = exc
    except AmountError as exc:
        decoded = InvalidEvent(DlqReason.SCHEMA, str(exc))
    return _classified(record, decoded)


def split(records: Iterable[Record], categories: Collection[str]) -> tuple[list[Valid], list[InvalidRecord]]:
    """A poll's records as valid events and invalid messages, each in poll order.

    The poll is decoded in one pass (`poll_decoder.decode_poll`: one typed parse per
    message, the repeated checks once per distinct value); what it declines is decoded
    strictly, so every record is classified exactly as `classify` would."""
    records = list(records)
    valid: list[Valid] = []
    invalid: list[InvalidRecord] = []
    decoded = decode_poll([r.value for r in records], categories)
    for record, message in zip(records, decoded, strict=True):
        item = _classified(record, message)
        if isinstance(item, Valid):
            valid.append(item)
        else:
            invalid.append(item)
    return valid, invalid


def _classified(record: Record, decoded: DecodedMessage | InvalidEvent) -> Valid | InvalidRecord:
    if isinstance(decoded, InvalidEvent):
        return InvalidRecord(
            record.partition, record.offset, record.key, record.value, decoded.reason, decoded.detail[:500]
        )
    if decoded.amount_minor > _MAX_MINOR:
        return InvalidRecord(
            record.partition,
            record.offset,
            record.key,
            record.value,
            DlqReason.SCHEMA,
            "amount exceeds the 64-bit minor-unit range",
        )
    assert record.value is not None  # decode_message() rejects tombstones
    return Valid(
        record.partition,
        record.offset,
        record.key,
        record.value,
        decoded.envelope,
        decoded.body_hash,
        decoded.amount_minor,
    )
