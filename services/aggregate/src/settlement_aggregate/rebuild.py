"""Rebuild and reconcile the Redis projection from the ledger (used by settlementctl).

Both read the ledger of one consumer group in a REPEATABLE READ snapshot, so the position
(consumer_offsets.next_offset) and the effects they sum are consistent with each other.

rebuild: per partition, write the recomputed hash and seen-set into temporary keys (same
hash tag), then one Lua call renames them over the live keys and sets the fence to the
ledger position. Safe while an aggregator runs: a concurrent apply either happened before
the swap (overwritten by an equally complete state) or fails its compare-and-set
afterwards and replays from the ledger (projection.py).

reconcile: per partition, read the fence and hash atomically (MULTI), recompute the
ledger's totals up to that same fence, and compare every field. A fence behind the ledger
is lag (the aggregator is catching up), not drift; a fence ahead of it is drift.

Both count with the catalogue's rules (settlement_core.rules) over the effects' declared
categories, so a rebuild after a rule change applies the new rules to the whole history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Connection, Engine, text

from settlement_aggregate.ledger import stream_effects
from settlement_aggregate.projection import NO_FENCE
from settlement_core.buckets import (
    PARTITIONS_KEY,
    applied_at_key,
    fence_key,
    increments_for,
    partition_tag,
    seen_key,
    totals_key,
)
from settlement_core.redis_io import translate_errors
from settlement_core.rules import CountingRules

_WRITE_CHUNK = 5000

# KEYS: totals, fence, seen, tmp totals, tmp seen. ARGV: fence (-1: none).
SWAP_LUA = """
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('RENAME', KEYS[4], KEYS[1])
else
  redis.call('DEL', KEYS[1])
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('RENAME', KEYS[5], KEYS[3])
else
  redis.call('DEL', KEYS[3])
end
if tonumber(ARGV[1]) < 0 then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
"""


def _tmp_totals_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:rebuild:t"


def _tmp_seen_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:rebuild:seen"


def swap_keys(partition: int) -> list[str]:
    """KEYS of SWAP_LUA: one hash tag, so one Redis Cluster slot per call."""
    return [
        totals_key(partition),
        fence_key(partition),
        seen_key(partition),
        _tmp_totals_key(partition),
        _tmp_seen_key(partition),
    ]


@dataclass(frozen=True, slots=True)
class RebuildResult:
    partition: int
    fence: int
    effects: int
    fields: int


@dataclass(frozen=True, slots=True)
class Drift:
    partition: int
    field: str
    redis: int
    ledger: int


@dataclass(frozen=True, slots=True)
class PartitionCheck:
    partition: int
    redis_fence: int
    ledger_fence: int
    fields_checked: int
    drift: tuple[Drift, ...]

    @property
    def lag(self) -> int:
        return max(0, self.ledger_fence - self.redis_fence)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def ledger_positions(conn: Connection, group: str, topic: str) -> dict[int, int]:
    """partition -> next_offset of record for the group."""
    rows = conn.execute(
        text("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = :g AND topic = :t"),
        {"g": group, "t": topic},
    ).all()
    return {int(p): int(o) for p, o in rows}


def _redis_partitions(client: redis.Redis) -> set[int]:
    with translate_errors():
        members = client.smembers(PARTITIONS_KEY)
    return {int(str(m)) for m in members}


def _ledger_totals(
    conn: Connection, partition: int, upto: int, rules: CountingRules
) -> tuple[dict[str, int], frozenset[str], int]:
    count = 0

    def counted() -> Iterator[Any]:
        nonlocal count
        for effect in stream_effects(conn, partition, NO_FENCE, upto):
            count += 1
            yield effect

    inc = increments_for(counted(), rules)
    return inc.fields, inc.seen, count


def rebuild(
    engine: Engine,
    client: redis.Redis,
    group: str,
    topic: str,
    rules: CountingRules,
    only: Collection[int] | None = None,
) -> list[RebuildResult]:
    """Recompute every partition's totals and fence from the ledger (or only those in `only`)."""
    results: list[RebuildResult] = []
    swap: Any = client.register_script(SWAP_LUA)
    with _snapshot(engine) as conn:
        positions = ledger_positions(conn, group, topic)
    partitions = set(positions) | _redis_partitions(client)
    if only is not None:
        partitions = set(only)
    for partition in sorted(partitions):
        with _snapshot(engine) as conn:
            fence = ledger_positions(conn, group, topic).get(partition, 0) - 1
            fields, seen, count = _ledger_totals(conn, partition, fence, rules)
        tmp_t, tmp_seen = _tmp_totals_key(partition), _tmp_seen_key(partition)
        with translate_errors():
            client.delete(tmp_t, tmp_seen)
            items = list(fields.items())
            pipe = client.pipeline(transaction=False)
            for start in range(0, len(items), _WRITE_CHUNK):
                pipe.hset(tmp_t, mapping=dict(items[start : start + _WRITE_CHUNK]))
            if seen:
                pipe.sadd(tmp_seen, *sorted(seen))
            pipe.execute()
            swap(keys=swap_keys(partition), args=[fence])
            if fence >= 0:
                client.sadd(PARTITIONS_KEY, partition)
            else:
                client.delete(applied_at_key(partition))
                client.srem(PARTITIONS_KEY, partition)
        results.append(RebuildResult(partition, fence, count, len(fields)))
    return results


def _redis_snapshot(client: redis.Redis, partition: int) -> tuple[int, dict[str, int]]:
    with translate_errors():
        pipe = client.pipeline(transaction=True)
        pipe.get(fence_key(partition))
        pipe.hgetall(totals_key(partition))
        fence_raw, raw = pipe.execute()
    fence = NO_FENCE if fence_raw is None else int(fence_raw)
    return fence, {str(k): int(v) for k, v in raw.items()}


def compare(partition: int, redis_fields: Mapping[str, int], ledger_fields: Mapping[str, int]) -> tuple[Drift, ...]:
    """Every field whose value differs (a missing field counts as 0)."""
    drift = [
        Drift(partition, name, redis_fields.get(name, 0), ledger_fields.get(name, 0))
        for name in sorted(set(redis_fields) | set(ledger_fields))
        if redis_fields.get(name, 0) != ledger_fields.get(name, 0)
    ]
    return tuple(drift)


def reconcile(
    engine: Engine, client: redis.Redis, group: str, topic: str, rules: CountingRules
) -> list[PartitionCheck]:
    checks: list[PartitionCheck] = []
    with _snapshot(engine) as conn:
        positions = ledger_positions(conn, group, topic)
    for partition in sorted(set(positions) | _redis_partitions(client)):
        redis_fence, redis_fields = _redis_snapshot(client, partition)
        with _snapshot(engine) as conn:
            ledger_fence = ledger_positions(conn, group, topic).get(partition, 0) - 1
            # Compare at Redis's own fence: effects up to it are committed and immutable.
            fields, _, _ = _ledger_totals(conn, partition, min(redis_fence, ledger_fence), rules)
        drift = compare(partition, redis_fields, fields)
        if redis_fence > ledger_fence:
            drift = (Drift(partition, "<fence>", redis_fence, ledger_fence), *drift)
        checks.append(PartitionCheck(partition, redis_fence, ledger_fence, len(set(redis_fields) | set(fields)), drift))
    return checks


def rewind(engine: Engine, group: str, topic: str, targets: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """Move the group's offsets of record back to `targets` (never forward).

    Returns (partition, old next_offset, new next_offset) for every partition touched. A
    running aggregator notices at its next batch (its belief no longer matches) and seeks.
    """
    changed: list[tuple[int, int, int]] = []
    with engine.begin() as conn:
        for partition, target in sorted(targets.items()):
            row = conn.execute(
                text(
                    "SELECT next_offset FROM consumer_offsets WHERE group_id = :g AND topic = :t "
                    "AND partition = :p FOR UPDATE"
                ),
                {"g": group, "t": topic, "p": partition},
            ).first()
            if row is None or int(row[0]) <= target:
                continue
            conn.execute(
                text(
                    "UPDATE consumer_offsets SET next_offset = :n, updated_at = now() "
                    "WHERE group_id = :g AND topic = :t AND partition = :p"
                ),
                {"g": group, "t": topic, "p": partition, "n": target},
            )
            changed.append((partition, int(row[0]), target))
    return changed
