"""Async reads of the aggregator's Redis buckets (layout: settlement_core/buckets.py).

Readers sum one field across every partition listed in `stl:partitions`. All HMGETs of one
request go out in one pipeline, so a request costs one round trip whatever its range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as aioredis

from settlement_core.buckets import PARTITIONS_KEY, seen_key, totals_key
from settlement_core.redis_io import translate_errors

# Bound the size of one HMGET reply; a pipeline carries all the chunks anyway.
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Seen:
    """What has ever been applied: (category, currency) pairs and bank ids."""

    pairs: frozenset[tuple[str, str]]
    banks: frozenset[str]
    # The partitions whose seen set names the bank: the only hashes holding its b|... fields.
    bank_partitions: Mapping[str, frozenset[int]] = field(default_factory=dict)

    def currencies(self, category: str) -> list[str]:
        return sorted(cur for cat, cur in self.pairs if cat == category)


class FigureStore(Protocol):
    """What the reads of figures need of a store of bucket fields: the Redis projection
    (BucketStore, the present) or a ledger snapshot (kit/known_at.py, a knowledge time)."""

    async def seen(self) -> Seen: ...

    async def sum_fields(self, fields: Sequence[str]) -> dict[str, int]: ...

    async def sum_bank_fields(self, seen: Seen, fields: Mapping[str, Sequence[str]]) -> dict[str, int]: ...


class BucketStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def partitions(self) -> list[int]:
        with translate_errors():
            members = await self._client.smembers(PARTITIONS_KEY)
        return sorted(int(m) for m in members)

    async def seen(self) -> Seen:
        partitions = await self.partitions()
        pairs: set[tuple[str, str]] = set()
        banks: dict[str, set[int]] = {}
        if not partitions:
            return Seen(frozenset(), frozenset())
        with translate_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for partition in partitions:
                    pipe.smembers(seen_key(partition))
                replies = await pipe.execute()
        for partition, members in zip(partitions, replies, strict=True):
            for member in members:
                head, _, tail = str(member).partition("|")
                if head == "bank":
                    banks.setdefault(tail, set()).add(partition)
                elif tail:
                    pairs.add((head, tail))
        return Seen(frozenset(pairs), frozenset(banks), {b: frozenset(p) for b, p in banks.items()})

    async def sum_bank_fields(self, seen: Seen, fields: Mapping[str, Sequence[str]]) -> dict[str, int]:
        """Per-bank fields (bank -> its field names), each read only from the partitions
        where that bank's events were applied: the same sums as `sum_fields` at 1/P of the
        Redis work (kit/disclosure.py reads tens of thousands of these per status page)."""
        if not seen.bank_partitions:
            return await self.sum_fields([name for names in fields.values() for name in names])
        requests: list[tuple[int, list[str]]] = []
        for bank, names in fields.items():
            for partition in sorted(seen.bank_partitions.get(bank, ())):
                requests += [(partition, list(names[i : i + _CHUNK])) for i in range(0, len(names), _CHUNK)]
        totals: dict[str, int] = {}
        if not requests:
            return totals
        with translate_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for partition, chunk in requests:
                    pipe.hmget(totals_key(partition), chunk)
                replies = await pipe.execute()
        for (_, chunk), values in zip(requests, replies, strict=True):
            for name, value in zip(chunk, values, strict=True):
                if value is not None:
                    totals[name] = totals.get(name, 0) + int(value)
        return totals

    async def sum_fields(self, fields: Sequence[str]) -> dict[str, int]:
        """Each field summed across all partitions (missing fields count as 0)."""
        totals: dict[str, int] = {}
        if not fields:
            return totals
        partitions = await self.partitions()
        if not partitions:
            return totals
        chunks = [list(fields[i : i + _CHUNK]) for i in range(0, len(fields), _CHUNK)]
        with translate_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for partition in partitions:
                    for chunk in chunks:
                        pipe.hmget(totals_key(partition), chunk)
                replies = await pipe.execute()
        index = 0
        for _ in partitions:
            for chunk in chunks:
                for name, value in zip(chunk, replies[index], strict=True):
                    if value is not None:
                        totals[name] = totals.get(name, 0) + int(value)
                index += 1
        return totals
