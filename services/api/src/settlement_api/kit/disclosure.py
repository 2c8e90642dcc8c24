"""Disclosure control: no market-wide figure that reveals one bank's business.

Rule (docs/security/api.md): a figure shown to anyone but an operator (an anonymous reader
in public mode, or a bank key reading market-wide figures) that is computed from at least
one but fewer than MIN_CONTRIBUTORS banks is suppressed: its value is null and it carries
`suppressed: true` and `suppressed_reason`. Figures derived from a suppressed one (ratios,
pace, projection, status, change against the previous year, the event count) are
suppressed with it. A per-currency breakdown is shown only when every currency in it has
MIN_CONTRIBUTORS banks or more; otherwise the whole breakdown is withheld (`{}` and
`breakdown_suppressed: true`), since one hidden currency could be recovered by subtracting
the shown ones from the total. A figure with no contributor at all is 0 and reveals nobody.
Operators see everything; a bank's own figures (/v1/totals, /v1/banks/{own}/...) are never
suppressed for that bank.

Contributors are counted exactly from the aggregator's per-bank buckets
(`b|<bank>|<category>|<currency>|d/m/y|...`, settlement_core/buckets.py): a bank contributes
to a figure when any of its buckets covering the figure's dates is non-zero. The projection
keeps per-bank buckets per value date (day, month, year) and category, so every figure over
value dates has an exact count. It keeps no per-bank processing-hour buckets: the rolling
24h/7d/30d gauges of /metrics are gated by the count of their target's window instead.
Where a table publishes a total beside its parts (the SDMX export's year and its months),
`protect_parts` adds the secondary suppression that stops a hidden part being recovered by
subtraction; where it also publishes running totals (the series: days, months, cumulative
curve and window total at one as_of), `protect_curve` does. Not covered (see the doc):
differencing figures of two requests (e.g. two as_of dates one day apart) can still
isolate one day's contribution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from settlement_api.kit.bucket_store import FigureStore, Seen
from settlement_api.security import Reader
from settlement_core.buckets import bank_field, cover

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What one caller may see of market-wide figures."""

    min_contributors: int
    applies: bool  # False for operators: they see every figure

    @classmethod
    def for_reader(cls, reader: Reader, min_contributors: int) -> Disclosure:
        return cls(min_contributors, not reader.is_operator)

    @classmethod
    def unrestricted(cls) -> Disclosure:
        return cls(1, False)

    def hides(self, contributors: int) -> bool:
        return self.applies and 0 < contributors < self.min_contributors

    @property
    def reason(self) -> str:
        return f"fewer than {self.min_contributors} contributing banks"

    @property
    def secondary_reason(self) -> str:
        """Why a figure that is not thin itself is withheld (`protect_parts`, `protect_curve`)."""
        return f"withheld so that no figure of fewer than {self.min_contributors} banks can be derived by subtraction"


@dataclass(frozen=True, slots=True)
class Extent:
    """The buckets one figure is computed from: a category over value dates [start, end]."""

    category: str
    start: date
    end: date  # inclusive; before start means the figure is empty


@dataclass(frozen=True, slots=True)
class Contributors:
    banks: frozenset[str] = frozenset()
    by_currency: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __or__(self, other: Contributors) -> Contributors:
        currencies = set(self.by_currency) | set(other.by_currency)
        return Contributors(
            self.banks | other.banks,
            {
                c: self.by_currency.get(c, frozenset()) | other.by_currency.get(c, frozenset())
                for c in sorted(currencies)
            },
        )

    @property
    def count(self) -> int:
        return len(self.banks)


NOBODY = Contributors()


def extent_fields(extent: Extent, seen: Seen) -> dict[tuple[str, str], tuple[str, ...]]:
    """(bank, currency) -> the per-bank bucket fields covering the extent (pure). The cover
    is computed once per extent: per (bank, currency) it cost 4.8 s for the status page's
    2,340 extents x 6 banks x 5 currencies on the demo data, 0.1 s this way."""
    if extent.end < extent.start:
        return {}
    periods = cover(extent.start, extent.end)
    return {
        (bank, currency): tuple(bank_field(bank, extent.category, currency, p) for p in periods)
        for bank in sorted(seen.banks)
        for currency in seen.currencies(extent.category)
    }


def contributors_of(fields: Mapping[tuple[str, str], tuple[str, ...]], values: Mapping[str, int]) -> Contributors:
    """Banks (overall and per currency) with a non-zero bucket among `fields` (pure)."""
    banks: set[str] = set()
    by_currency: dict[str, set[str]] = {}
    for (bank, currency), names in fields.items():
        if any(values.get(name, 0) for name in names):
            banks.add(bank)
            by_currency.setdefault(currency, set()).add(bank)
    return Contributors(frozenset(banks), {c: frozenset(b) for c, b in sorted(by_currency.items())})


async def read_contributors(store: FigureStore, seen: Seen, extents: Mapping[K, Extent]) -> dict[K, Contributors]:
    """The contributors of every extent, from one pipelined read of the per-bank buckets."""
    planned = {key: extent_fields(extent, seen) for key, extent in extents.items()}
    by_bank: dict[str, dict[str, None]] = {}
    for fields in planned.values():
        for (bank, _), names in fields.items():
            by_bank.setdefault(bank, {}).update(dict.fromkeys(names))
    values = await store.sum_bank_fields(seen, {bank: list(names) for bank, names in by_bank.items()})
    return {key: contributors_of(fields, values) for key, fields in planned.items()}


class ContributorReader:
    """`read_contributors` with an in-process cache per extent for `ttl` seconds.

    Contributor counts are the same for every reader, so they are shared by all of them:
    on the demo data the status page's 2,340 extents cost about 4 s of one (loaded) core
    to read, the figures themselves 2 s. Counts only change when a bank's first event in a
    cell arrives (or its last is reversed), so a count up to `ttl` old is harmless; the
    figures are always read fresh."""

    MAX_ENTRIES = 50_000

    def __init__(self, store: FigureStore, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[Extent, tuple[float, Contributors]] = {}

    async def read(self, seen: Seen, extents: Mapping[K, Extent]) -> dict[K, Contributors]:
        now = self._clock()
        found: dict[K, Contributors] = {}
        missing: dict[K, Extent] = {}
        for key, extent in extents.items():
            entry = self._cache.get(extent)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
            else:
                missing[key] = extent
        if missing:
            fresh = await read_contributors(self._store, seen, missing)
            if len(self._cache) + len(fresh) > self.MAX_ENTRIES:
                self._cache = {e: v for e, v in self._cache.items() if v[0] > now}
                if len(self._cache) + len(fresh) > self.MAX_ENTRIES:
                    self._cache.clear()
            for key, contributors in fresh.items():
                self._cache[missing[key]] = (now + self._ttl, contributors)
            found.update(fresh)
        return found


def breakdown_hidden(rule: Disclosure, contributors: Contributors, shown: Mapping[str, str]) -> bool:
    """A per-currency map is withheld when any currency in it is thin (see the module doc)."""
    return rule.applies and any(rule.hides(len(contributors.by_currency.get(c, frozenset()))) for c in shown)


@dataclass(frozen=True, slots=True)
class PartsSuppression:
    """Which cells of one additive relation `total = sum(parts)` a reader may not see:
    `primary` parts are thin themselves, `secondary` parts are withheld so that no thin
    part can be recovered as the total minus the shown parts (indices into the parts)."""

    total_hidden: bool
    primary: frozenset[int] = frozenset()
    secondary: frozenset[int] = frozenset()

    def hidden(self, index: int) -> bool:
        return index in self.primary or index in self.secondary


def protect_parts(rule: Disclosure, total: Contributors, parts: Sequence[Contributors]) -> PartsSuppression:
    """Primary and secondary suppression for a published total and its parts (pure).

    A thin part (1 .. MIN_CONTRIBUTORS-1 banks) is withheld. When the total is shown, the
    total minus the shown parts is the sum of the withheld ones, so that sum must itself be
    a publishable figure: further parts are withheld until the banks behind all withheld
    parts number MIN_CONTRIBUTORS or more. One withheld part alone never qualifies (it is
    thin), so at least two are always withheld together. Each step takes the part adding
    the most banks not yet covered (fewest cells lost), the earliest on a tie. If no part
    adds a bank (only when the total's own contributors differ from its parts'), the total
    is withheld instead: then nothing can be subtracted. Parts with no contributor are 0
    and reveal nobody."""
    if not rule.applies:
        return PartsSuppression(False)
    total_hidden = rule.hides(total.count)
    primary = frozenset(i for i, part in enumerate(parts) if rule.hides(part.count))
    if total_hidden or not primary:
        return PartsSuppression(total_hidden, primary)
    withheld = set(primary)
    covered: set[str] = set().union(*(parts[i].banks for i in primary))
    while rule.hides(len(covered)):
        candidates = [i for i in range(len(parts)) if i not in withheld and parts[i].banks - covered]
        if not candidates:
            return PartsSuppression(True, primary)
        best = max(candidates, key=lambda i: (len(parts[i].banks - covered), -i))
        withheld.add(best)
        covered |= parts[best].banks
    return PartsSuppression(False, primary, frozenset(withheld - primary))


@dataclass(frozen=True, slots=True)
class CurveSuppression:
    """What a reader may see of one cumulative curve over a window (`protect_curve`).

    The window is split into groups (months) and each group into cells (the points of the
    series: its days, or the month itself). `groups` are the month flags (`protect_parts`
    of the window and its months, as the SDMX export withholds them), `cells[g]` the
    withheld cells of group g, `cumulative[g]` the cells of group g after which the
    running total may be shown."""

    total_hidden: bool
    groups: PartsSuppression
    cells: tuple[frozenset[int], ...]
    cumulative: tuple[frozenset[int], ...]


def _month_cuts(rule: Disclosure, groups: Sequence[Contributors], flags: PartsSuppression) -> list[int]:
    """The group ends (1-based: after group j-1 is node j) where the running total may be
    published: every stretch between two of them either has no withheld group or withheld
    groups whose banks number MIN_CONTRIBUTORS or more. Greedy from the window start; a
    stretch at the end that falls short (only when the total is shown, so the end is
    known) is merged into the one before it, which already had enough."""
    cuts: list[int] = []
    driven: int | None = None  # index in `cuts` of the last cut made by enough banks
    pending: set[str] = set()
    withheld = False
    for j, group in enumerate(groups):
        if flags.hidden(j):
            pending |= group.banks
            withheld = True
        if not withheld:
            cuts.append(j + 1)
        elif not rule.hides(len(pending)):
            driven = len(cuts)
            cuts.append(j + 1)
            pending, withheld = set(), False
    if withheld and not flags.total_hidden and driven is not None:
        del cuts[driven:]
    return cuts


class _Nodes:
    """Union-find over the curve's boundaries: node n is the running total after n cells."""

    def __init__(self, size: int) -> None:
        self._parent = list(range(size))

    def find(self, node: int) -> int:
        while self._parent[node] != node:
            self._parent[node] = self._parent[self._parent[node]]
            node = self._parent[node]
        return node

    def join(self, a: int, b: int) -> None:
        self._parent[self.find(a)] = self.find(b)


def protect_curve(
    rule: Disclosure, total: Contributors, groups: Sequence[Contributors], cells: Sequence[Sequence[Contributors]]
) -> CurveSuppression:
    """Primary and secondary suppression for a window's total, its groups (months), their
    cells (days; a month series passes each month as its own single cell) and the running
    total after every cell (pure).

    Every figure shown is a difference of two running totals, so what a reader can derive is
    decided by which running totals are linked by shown figures: (1) groups as
    `protect_parts` decides for the window; (2) in a shown group its cells by
    `protect_parts` with the group as their total, in a withheld group no cell but empty
    ones (0 reveals nobody); (3) the running total is shown at the group ends `_month_cuts`
    allows, and then wherever shown cells and groups link a boundary to a known one (it is
    derivable there anyway). Any set of cells a reader can isolate by adding and
    subtracting shown figures is then empty, or covers MIN_CONTRIBUTORS banks or more
    (tests/api/kit/test_disclosure_curve.py checks it for random tables). Operators see
    everything. `total` is the window's own figure (/v1/progress), so that the months are
    withheld exactly as the SDMX export withholds them."""
    if not rule.applies:
        return CurveSuppression(
            False,
            PartsSuppression(False),
            tuple(frozenset() for _ in cells),
            tuple(frozenset(range(len(c))) for c in cells),
        )
    if len(groups) != len(cells):
        raise ValueError(f"{len(groups)} groups but cells for {len(cells)}")
    flags = protect_parts(rule, total, groups)
    hidden_cells = [
        frozenset(i for i, cell in enumerate(group_cells) if cell.count)
        if flags.hidden(j)
        else _cells_of_shown(rule, group_cells)
        for j, group_cells in enumerate(cells)
    ]
    starts = [0]
    for group_cells in cells:
        starts.append(starts[-1] + len(group_cells))
    nodes = _Nodes(starts[-1] + 1)
    for j, group_cells in enumerate(cells):
        if not flags.hidden(j):
            nodes.join(starts[j], starts[j + 1])
        for i in range(len(group_cells)):
            if i not in hidden_cells[j]:
                nodes.join(starts[j] + i, starts[j] + i + 1)
    if not flags.total_hidden:
        nodes.join(0, starts[-1])
    for cut in _month_cuts(rule, groups, flags):
        nodes.join(0, starts[cut])
    origin = nodes.find(0)
    cumulative = tuple(
        frozenset(i for i in range(len(group_cells)) if nodes.find(starts[j] + i + 1) == origin)
        for j, group_cells in enumerate(cells)
    )
    return CurveSuppression(flags.total_hidden, flags, tuple(hidden_cells), cumulative)


def _cells_of_shown(rule: Disclosure, cells: Sequence[Contributors]) -> frozenset[int]:
    """The cells withheld inside a shown group: `protect_parts` with the group as their
    total. Should the group's own count differ from its cells' (a bank's business reversed
    within the group) so that no second cell can be withheld, every non-empty cell is."""
    everyone = NOBODY
    for cell in cells:
        everyone = everyone | cell
    flags = protect_parts(rule, everyone, cells)
    if flags.total_hidden:
        return frozenset(i for i, cell in enumerate(cells) if cell.count)
    return flags.primary | flags.secondary
