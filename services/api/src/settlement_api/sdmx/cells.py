"""From figures to observations (pure): one target window's year and month figures become
SDMX observations with OBS_STATUS and CONF_STATUS, as one reader may see them.

Disclosure control (kit/disclosure.py) is decided on the whole window, never on what a
query filters: a window's A value is the sum of its months, so `protect_parts` withholds
a second month wherever a thin one could be recovered by subtraction, and a filter that
leaves out some months cannot change which ones are withheld. The flags are the same for
every reader: an operator gets every value with its CONF_STATUS (C or D tells the
receiver not to publish it, SDMX's sender-set confidentiality); anyone else gets NaN for a
flagged value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from settlement_api.kit.disclosure import Contributors, Disclosure, PartsSuppression, protect_parts
from settlement_api.kit.plan_units import in_plan_unit
from settlement_api.sdmx.periods import Span
from settlement_api.sdmx.structure import WITHHELD, ConfStatus, Freq, ObsStatus, Unit
from settlement_core.catalogue import Target


@dataclass(frozen=True, slots=True)
class Figure:
    """One settled figure of a target: `settled` is the decimal string /v1/progress (A) or
    the month series (M) shows an operator, in the target's currency."""

    period: str  # TIME_PERIOD: 2020, 2020-01
    span: Span  # the calendar days the figure covers (a month after as_of is absent)
    settled: str
    contributors: Contributors


@dataclass(frozen=True, slots=True)
class Window:
    """A target's window: its whole figure (as /v1/progress) and its months up to as_of."""

    target: Target
    year: Figure
    months: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class Observation:
    freq: Freq
    target: str
    currency: str
    unit: Unit
    time_period: str
    span: Span
    value: str  # exact decimal text, or WITHHELD
    obs_status: ObsStatus
    conf_status: ConfStatus

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.freq.value, self.target, self.currency, self.unit.value, self.time_period)


# OBS_STATUS of a target's figures over a period. Provisional until releases (issue 24
# step 2) mark a final one; the coordinator passes the releases' status here.
StatusOf = Callable[[Target, str], ObsStatus]


def all_provisional(target: Target, period: str) -> ObsStatus:
    del target, period
    return ObsStatus.PROVISIONAL


def _conf(flags: PartsSuppression, index: int) -> ConfStatus:
    if index in flags.primary:
        return ConfStatus.CONFIDENTIAL
    if index in flags.secondary:
        return ConfStatus.SECONDARY
    return ConfStatus.FREE


def _year_conf(rule: Disclosure, year: Figure, flags: PartsSuppression) -> ConfStatus:
    if rule.hides(year.contributors.count):
        return ConfStatus.CONFIDENTIAL
    return ConfStatus.SECONDARY if flags.total_hidden else ConfStatus.FREE


def _values(settled: str, withheld: bool) -> dict[Unit, str]:
    if withheld:
        return {Unit.UNITS: WITHHELD, Unit.YI: WITHHELD}
    return {Unit.UNITS: settled, Unit.YI: in_plan_unit(Decimal(settled))}


def window_observations(window: Window, reader: Disclosure, status_of: StatusOf) -> list[Observation]:
    """Every observation of one window, as `reader` may see it (both units of each figure)."""
    publication = Disclosure(reader.min_contributors, True)  # the flags every reader gets
    flags = protect_parts(publication, window.year.contributors, [m.contributors for m in window.months])
    target = window.target
    rows: list[tuple[Freq, Figure, ConfStatus]] = [
        (Freq.ANNUAL, window.year, _year_conf(publication, window.year, flags))
    ]
    rows += [(Freq.MONTHLY, month, _conf(flags, i)) for i, month in enumerate(window.months)]
    out: list[Observation] = []
    for freq, figure, conf in rows:
        withheld = reader.applies and conf is not ConfStatus.FREE
        status = status_of(target, figure.period)
        for unit, value in _values(figure.settled, withheld).items():
            out.append(
                Observation(freq, target.code, target.currency, unit, figure.period, figure.span, value, status, conf)
            )
    return out


def observations(
    windows: Iterable[Window], reader: Disclosure, status_of: StatusOf = all_provisional
) -> list[Observation]:
    return [o for w in windows for o in window_observations(w, reader, status_of)]


def in_span(rows: Iterable[Observation], start: date | None, end: date | None) -> list[Observation]:
    """Observations whose period overlaps [start, end] (SDMX startPeriod/endPeriod)."""
    return [o for o in rows if (start is None or o.span.end >= start) and (end is None or o.span.start <= end)]


def in_series(rows: Iterable[Observation], key: Sequence[frozenset[str] | None]) -> list[Observation]:
    """Observations whose FREQ, TARGET, CURRENCY and UNIT match an SDMX series key (None:
    any code)."""
    return [o for o in rows if all(want is None or have in want for have, want in zip(o.key[:-1], key, strict=True))]


def changed_since(now: Sequence[Observation], then: Sequence[Observation]) -> list[Observation]:
    """SDMX updatedAfter: the observations of `now` that are new or differ (value or
    status) from the same key in `then`, the figures as they were known at that time."""
    before = {o.key: o for o in then}
    return [o for o in now if before.get(o.key) != o]
