"""Step 4: apply a committed batch to the Redis projection, fenced per partition.

One Lua call per partition per batch: it applies the batch's pre-aggregated increments
only if the partition's fence still equals the offset before the batch (compare-and-set),
then moves the fence, so increments and fence change atomically (all keys share the hash
tag `{stl:p<N>}`, one Redis Cluster slot). If the fence does not match (a crash between
the ledger commit and the apply, a flushed Redis, a rebuild, a zombie instance), the
ledger is the truth: effects with offset > fence are replayed from ledger_effects in
chunks, each chunk again a compare-and-set, until the fence reaches the committed offset.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

import redis

from settlement_core.buckets import (
    PARTITIONS_KEY,
    Effect,
    Increments,
    applied_at_key,
    fence_key,
    increments_for,
    seen_key,
    totals_key,
)
from settlement_core.redis_io import translate_errors
from settlement_core.rules import CountingRules

logger = logging.getLogger(__name__)

NO_FENCE = -1  # a missing fence: nothing of the partition is applied

# KEYS: totals, fence, seen, at. ARGV: expected fence, new fence, unix time, n fields,
# n (field, increment) pairs, then seen members.
# Returns {1, new} when applied, {0, current} when the fence did not match (nothing done).
# HINCRBY argument errors are impossible here (integers built by the caller), so a script
# error cannot leave a partial apply behind.
APPLY_LUA = """
local current = redis.call('GET', KEYS[2])
if current then current = tonumber(current) else current = -1 end
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
local n = tonumber(ARGV[4])
local last = 4 + 2 * n
for i = 5, last, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = last + 1, #ARGV do
  redis.call('SADD', KEYS[3], ARGV[i])
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[4], ARGV[3])
return {1, tonumber(ARGV[2])}
"""


def apply_args(expected: int, new: int, now: int, inc: Increments) -> list[Any]:
    """ARGV of APPLY_LUA: expected fence, new fence, unix time, n, n (field, increment)
    pairs, seen members. Built with C-level chain/extend: a batch has thousands of fields."""
    args: list[Any] = [expected, new, now, len(inc.fields)]
    args.extend(chain.from_iterable(inc.fields.items()))
    args.extend(sorted(inc.seen))
    return args


def apply_keys(partition: int) -> list[str]:
    """KEYS of APPLY_LUA: one hash tag, so one Redis Cluster slot per call."""
    return [totals_key(partition), fence_key(partition), seen_key(partition), applied_at_key(partition)]


class EffectSource(Protocol):
    """Where replays read committed effects from (ledger.LedgerRepository)."""

    def effects_chunk(self, partition: int, after: int, upto: int, limit: int) -> tuple[list[Effect], int]: ...


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    partition: int
    fence: int
    replayed_effects: int  # > 0 when the fast path did not apply and the ledger was replayed


class Projection:
    def __init__(self, client: redis.Redis, source: EffectSource, replay_chunk: int, rules: CountingRules) -> None:
        """`rules`: the catalogue's counting rules, the same ones `settlementctl rebuild` uses."""
        self._rules = rules
        self._redis = client
        self._source = source
        self._chunk = replay_chunk
        self._apply: Any = client.register_script(APPLY_LUA)
        self._registered: set[int] = set()

    def fence(self, partition: int) -> int:
        with translate_errors():
            value = self._redis.get(fence_key(partition))
        return NO_FENCE if value is None else int(str(value))

    def _cas(self, partition: int, expected: int, new: int, inc: Increments) -> tuple[bool, int]:
        args = apply_args(expected, new, int(time.time()), inc)
        keys = apply_keys(partition)
        with translate_errors():
            if partition not in self._registered:
                # Outside the script: stl:partitions has no hash tag (another slot). It only
                # lists partitions for readers, so adding it early is harmless.
                self._redis.sadd(PARTITIONS_KEY, partition)
                self._registered.add(partition)
            ok, current = self._apply(keys=keys, args=args)
        return bool(ok), int(current)

    def apply(self, partition: int, prev_fence: int, new_fence: int, effects: list[Effect]) -> ApplyOutcome:
        """Apply one committed batch (effects with prev_fence < offset <= new_fence)."""
        ok, current = self._cas(partition, prev_fence, new_fence, increments_for(effects, self._rules))
        if ok:
            return ApplyOutcome(partition, new_fence, 0)
        return self.catch_up(partition, new_fence, current)

    def catch_up(self, partition: int, upto: int, current: int | None = None) -> ApplyOutcome:
        """Replay committed effects until the fence reaches `upto` (a committed position)."""
        if current is None:
            current = self.fence(partition)
        replayed = 0
        if current < upto:
            logger.info(
                "fence behind the ledger, replaying", extra={"partition": partition, "fence": current, "ledger": upto}
            )
        while current < upto:
            effects, bound = self._source.effects_chunk(partition, current, upto, self._chunk)
            ok, found = self._cas(partition, current, bound, increments_for(effects, self._rules))
            if ok:
                current = bound
                replayed += len(effects)
            else:
                current = found  # someone else moved it (rebuild, another instance): re-read
        if current > upto:
            # Only a rebuild racing us or another instance that is further along can do this;
            # a fence ahead of the whole ledger means Redis holds foreign data (rebuild it).
            logger.debug("fence ahead of this batch", extra={"partition": partition, "fence": current, "upto": upto})
        return ApplyOutcome(partition, current, replayed)
