"""Timeliness of a bank's events, the pure part (issue 25 step 2; docs/statistics.md,
"Deadlines and lateness").

An event is due by the deadlines seed's event rule (`working_days_after_value_date`: the N-th
working day after its value date on China's calendar) and arrived on the business date of
its `ingested_at` (when ingest accepted it, stored once on its ledger row and never changed).
Lateness is derived from those two stored facts and the rule whenever it is read, so every
ledger row has it and a corrected rule applies to history, as a rule change of the catalogue
does after a rebuild.

A month's timeliness counts the bank's events (originals, whatever their status: a reversed
event still arrived when it did; reversals are not reports of a settlement) whose value date
falls in the month. Where the due date or the arrival lies in a year the calendar does not
cover, the event is `not_assessed` rather than guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from settlement_core.deadlines import Deadline, lateness
from settlement_core.pace import RATIO_QUANTUM


@dataclass(frozen=True, slots=True)
class Arrivals:
    """`events` of one bank with one value date that arrived on one business date."""

    value_date: date
    arrived: date
    events: int


@dataclass(frozen=True, slots=True)
class PeriodTimeliness:
    events: int
    on_time: int
    not_assessed: int
    # working days late -> events that many days late (late events only)
    late_by: dict[int, int]

    @property
    def late(self) -> int:
        return sum(self.late_by.values())

    @property
    def max_working_days_late(self) -> int:
        return max(self.late_by, default=0)

    @property
    def late_share(self) -> Decimal:
        """Late events / assessed events, to RATIO_QUANTUM; 0 when none was assessed."""
        assessed = self.on_time + self.late
        if assessed == 0:
            return Decimal(0).quantize(RATIO_QUANTUM)
        return (Decimal(self.late) / Decimal(assessed)).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)


def assess(groups: Iterable[Arrivals], deadline: Deadline) -> PeriodTimeliness:
    events = on_time = not_assessed = 0
    late_by: Counter[int] = Counter()
    for group in groups:
        events += group.events
        result = lateness(deadline, group.value_date, group.arrived)
        if result is None:
            not_assessed += group.events
        elif result.late:
            late_by[result.working_days_late] += group.events
        else:
            on_time += group.events
    return PeriodTimeliness(events, on_time, not_assessed, dict(sorted(late_by.items())))
