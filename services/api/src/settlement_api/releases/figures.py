"""A target's figure in a set of ledger effects (pure over a LedgerSnapshot, no I/O).

The amount is read exactly as /v1/progress reads it (progress/settled.py on the snapshot:
the target's window up to as_of, every original currency converted at read time, rounded
once); the event count is exact over the same value dates (reversals subtract), from the
effect groups themselves; the contributors are those disclosure control counts
(kit/disclosure.py). Per-bank amounts use the same read plans with one bank's streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from settlement_api.kit.disclosure import Extent, read_contributors
from settlement_api.kit.known_at import EffectGroup, LedgerSnapshot, increments_of
from settlement_api.kit.readmodel import Stream, evaluate, plan_reads
from settlement_api.progress.settled import SettledQuery, settled_amounts
from settlement_core.catalogue import Target
from settlement_core.fx import FxTable
from settlement_core.rules import CountingRules


@dataclass(frozen=True, slots=True)
class Window:
    """A target's value dates: [start, as_of]."""

    code: str
    currency: str
    start: date
    as_of: date


def window_of(target: Target, as_of: date) -> Window:
    return Window(target.code, target.currency, target.window_start, min(as_of, target.window_end))


@dataclass(frozen=True, slots=True)
class Figure:
    amount: Decimal  # rounded once to the currency's minor unit
    exact: Decimal  # the exact sum of conversions before rounding
    events: int  # signed: reversals subtract
    banks: frozenset[str]  # contributors (a non-zero bucket in the window)


def counts_in(group: EffectGroup, window: Window, rules: CountingRules) -> bool:
    return window.start <= group.value_date <= window.as_of and window.code in rules.counts_toward(
        group.categories, group.currency, group.country, group.direction
    )


def signed_events(groups: Iterable[EffectGroup], window: Window, rules: CountingRules) -> int:
    return sum((g.events if g.added else -g.events) for g in groups if counts_in(g, window, rules))


async def figure_in(
    snapshot: LedgerSnapshot, groups: Iterable[EffectGroup], rules: CountingRules, fx: FxTable, window: Window
) -> Figure:
    query = SettledQuery(window.code, window.currency, window.start, window.as_of)
    seen = await snapshot.seen()
    settled = (await settled_amounts(snapshot, fx, {"f": query}, seen))["f"]
    found = await read_contributors(snapshot, seen, {"f": Extent(window.code, window.start, window.as_of)})
    return Figure(
        settled.amounts.converted,
        settled.amounts.converted_exact,
        signed_events(groups, window, rules),
        found["f"].banks,
    )


async def figure_of_groups(groups: Iterable[EffectGroup], rules: CountingRules, fx: FxTable, window: Window) -> Figure:
    """The figure of just these groups (e.g. the effects committed since a release)."""
    chosen = tuple(groups)
    snapshot = LedgerSnapshot(increments_of(chosen, rules))
    return await figure_in(snapshot, chosen, rules, fx, window)


async def bank_amounts(
    groups: Iterable[EffectGroup], rules: CountingRules, fx: FxTable, window: Window
) -> dict[str, tuple[int, Decimal]]:
    """bank -> (events, amount) of these groups in the window (amounts rounded per bank)."""
    chosen = [g for g in groups if counts_in(g, window, rules)]
    snapshot = LedgerSnapshot(increments_of(chosen, rules))
    seen = await snapshot.seen()
    result: dict[str, tuple[int, Decimal]] = {}
    for bank in sorted({g.bank_id for g in chosen}):
        streams = [Stream(window.code, currency, bank) for currency in seen.currencies(window.code)]
        plan = plan_reads(streams, window.start, window.as_of, window.currency, fx)
        values = await snapshot.sum_fields(plan.fields)
        events = sum(g.events for g in chosen if g.bank_id == bank)
        result[bank] = (events, evaluate(plan, values, window.currency).converted)
    return result
