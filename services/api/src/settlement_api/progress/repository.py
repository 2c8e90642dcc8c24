"""Settled amounts per target from the Redis buckets: one pipelined read for all targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement_api.bucket_store import BucketStore, Seen
from settlement_api.readmodel import Amounts, Plan, Stream, evaluate, plan
from settlement_core.buckets import count_field
from settlement_core.fx import FxTable
from settlement_core.targets import Target


@dataclass(frozen=True, slots=True)
class Settled:
    amounts: Amounts
    events_counted: int


def _count_fields(target: Target, as_of: date) -> list[str]:
    if as_of < target.window_start:
        return []
    return [count_field(target.code.value, year) for year in range(target.window_start.year, as_of.year + 1)]


async def settled_by_target(
    store: BucketStore,
    fx: FxTable,
    targets: tuple[Target, ...],
    as_of: dict[str, date],
    seen: Seen | None = None,
) -> dict[str, Settled]:
    seen = seen if seen is not None else await store.seen()
    plans: dict[str, Plan] = {}
    counts: dict[str, list[str]] = {}
    for target in targets:
        code = target.code.value
        streams = [Stream(code, currency) for currency in seen.currencies(code)]
        plans[code] = plan(streams, target.window_start, as_of[code], target.currency, fx)
        counts[code] = _count_fields(target, as_of[code])
    fields = [name for p in plans.values() for name in p.fields]
    fields += [name for names in counts.values() for name in names]
    values = await store.sum_fields(list(dict.fromkeys(fields)))
    return {
        t.code.value: Settled(
            evaluate(plans[t.code.value], values, t.currency), sum(values.get(n, 0) for n in counts[t.code.value])
        )
        for t in targets
    }
