"""Async reads of the aggregator's Redis buckets (layout: settlement_core/buckets.py).

Readers sum one field across every partition listed in `stl:partitions`. All HMGETs of one
request go out in one pipeline, so a request costs one round trip whatever its range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

    def currencies(self, category: str) -> list[str]:
        return sorted(cur for cat, cur in self.pairs if cat == category)


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
        banks: set[str] = set()
        if not partitions:
            return Seen(frozenset(), frozenset())
        with translate_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for partition in partitions:
                    pipe.smembers(seen_key(partition))
                replies = await pipe.execute()
        for members in replies:
            for member in members:
                head, _, tail = str(member).partition("|")
                if head == "bank":
                    banks.add(tail)
                elif tail:
                    pairs.add((head, tail))
        return Seen(frozenset(pairs), frozenset(banks))

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
