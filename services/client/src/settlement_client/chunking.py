"""Splitting a list of events into batch requests within the server's limits."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The ingest service's limits (docs/ingest-contract.md): 1000 events and 1 MiB per batch.
MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 1024 * 1024

_PREFIX = b'{"events":['
_SUFFIX = b"]}"


def encode(event: Mapping[str, Any]) -> bytes:
    """The exact bytes sent for an event, also on every retry (so the body is the same)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def batch_body(encoded: Sequence[bytes]) -> bytes:
    return _PREFIX + b",".join(encoded) + _SUFFIX


@dataclass(frozen=True, slots=True)
class Chunk:
    """Events of one request, with their positions in the caller's list."""

    indexes: tuple[int, ...]
    encoded: tuple[bytes, ...]

    @property
    def body(self) -> bytes:
        return batch_body(self.encoded)


def oversized(encoded: bytes, max_bytes: int = MAX_BATCH_BYTES) -> bool:
    """An event that cannot fit in a batch even alone."""
    return len(_PREFIX) + len(encoded) + len(_SUFFIX) > max_bytes


def chunks(
    items: Sequence[tuple[int, bytes]], max_events: int = MAX_BATCH_EVENTS, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[Chunk]:
    """Greedy packing in order; the caller has removed `oversized` events already."""
    indexes: list[int] = []
    encoded: list[bytes] = []
    size = len(_PREFIX) + len(_SUFFIX)
    for index, data in items:
        extra = len(data) + (1 if encoded else 0)  # the comma
        if encoded and (len(encoded) >= max_events or size + extra > max_bytes):
            yield Chunk(tuple(indexes), tuple(encoded))
            indexes, encoded, size = [], [], len(_PREFIX) + len(_SUFFIX)
            extra = len(data)
        indexes.append(index)
        encoded.append(data)
        size += extra
    if encoded:
        yield Chunk(tuple(indexes), tuple(encoded))
