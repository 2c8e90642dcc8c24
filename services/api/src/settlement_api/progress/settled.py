"""Settled amounts from the Redis buckets: every figure of a report planned at once
(kit/readmodel.py) and read in one pipeline of the bucket store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement_api.kit.bucket_store import FigureStore, Seen
from settlement_api.kit.readmodel import Amounts, ReadPlan, Stream, evaluate, plan_reads
from settlement_core.buckets import count_field
from settlement_core.fx import FxTable


@dataclass(frozen=True, slots=True)
class SettledQuery:
    """One figure: a category's (or DISTINCT's) volume over [start, end] in `currency`."""

    category: str
    currency: str
    start: date
    end: date  # inclusive; before start means nothing is due yet


@dataclass(frozen=True, slots=True)
class Settled:
    amounts: Amounts
    events_counted: int  # in the years of [start, end] (reversals subtract)


def _count_fields(query: SettledQuery) -> list[str]:
    if query.end < query.start:
        return []
    return [count_field(query.category, year) for year in range(query.start.year, query.end.year + 1)]


async def settled_amounts(
    store: FigureStore, fx: FxTable, queries: dict[str, SettledQuery], seen: Seen | None = None
) -> dict[str, Settled]:
    """Every query of `queries` (by the caller's key) from one Redis read."""
    seen = seen if seen is not None else await store.seen()
    plans: dict[str, ReadPlan] = {}
    counts: dict[str, list[str]] = {}
    for key, q in queries.items():
        streams = [Stream(q.category, currency) for currency in seen.currencies(q.category)]
        plans[key] = plan_reads(streams, q.start, q.end, q.currency, fx)
        counts[key] = _count_fields(q)
    fields = [name for p in plans.values() for name in p.fields]
    fields += [name for names in counts.values() for name in names]
    values = await store.sum_fields(list(dict.fromkeys(fields)))
    return {
        key: Settled(evaluate(plans[key], values, q.currency), sum(values.get(n, 0) for n in counts[key]))
        for key, q in queries.items()
    }
