"""Releases: freezing a period's figures, explaining revisions, observation status.

A release freezes, at one knowledge time (kit/known_at.py: server time after a barrier),
every target's figure of the period exactly as /v1/progress would show it read with
`known_at` = that time, with the rule set in force. After it, whatever changes a figure is a
revision, explained exactly (docs/statistics.md):

    today = published + re_derived + counted + reversed + rounding

  re_derived  the effects known at the release, counted again with today's rules and FX
              table, minus the published figure (a rule change followed by a rebuild);
  counted     the additions committed since the release (late and re-sent events);
  reversed    the subtractions committed since (reversals; negative);
  rounding    what rounding each part once to the minor unit leaves (0 unless a part mixes
              currencies converted at read time).

The sums and counts come from the ledger's effects split by processed_at at the release's
known_at; per bank for operators only. Disclosure control applies as to any market-wide
figure: a figure from fewer than MIN_CONTRIBUTORS banks is withheld from non-operators, and
so is the explanation when the events since the release come from that few banks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.kit.disclosure import Disclosure
from settlement_api.kit.known_at import (
    EffectGroup,
    KnownAt,
    LedgerSnapshot,
    effect_groups,
    increments_of,
    knowledge_barrier,
    known_groups,
    ledger_snapshot,
    rules_at,
    snapshot_at,
)
from settlement_api.kit.plan_units import money
from settlement_api.progress.schemas import ProgressOut
from settlement_api.releases.calendar import Made, Promise, standings
from settlement_api.releases.figures import Figure, Window, bank_amounts, figure_in, figure_of_groups, window_of
from settlement_api.releases.repository import (
    StoredRelease,
    final_release,
    get_release,
    insert_release,
    list_releases,
)
from settlement_api.releases.schemas import (
    BankChangeOut,
    CalendarEntryOut,
    CalendarOut,
    ChangeOut,
    ExplanationOut,
    ObservationStatus,
    ReleaseFigureOut,
    ReleaseOut,
    ReleasesOut,
    ReleaseSummaryOut,
    RevisionOut,
    RevisionsOut,
)
from settlement_core import audit
from settlement_core.business_days import business_date
from settlement_core.catalogue import Catalogue
from settlement_core.db.models import FxRateRow, Release, ReleaseFigure
from settlement_core.fx import FxRate, FxTable

KINDS = ("preliminary", "final")


class ReleaseRefused(ValueError):
    """A release that cannot be made (unknown period or kind, empty note)."""


def load_fx(session: Session) -> FxTable:
    """The FX table as kit/fx_cache.py loads it (settlementctl has no cache to share)."""
    rows = session.execute(select(FxRateRow)).scalars().all()
    return FxTable([FxRate(r.currency, r.valid_from, r.cny_per_unit, r.source, r.sample) for r in rows])


async def _frozen(known: KnownAt, fx: FxTable, windows: Sequence[Window]) -> list[tuple[Window, Figure]]:
    rules = known.rules.rules
    return [(w, await figure_in(known.snapshot, known.groups, rules, fx, w)) for w in windows]


def create_release(engine: Engine, catalogue: Catalogue, period: str, kind: str, note: str, timezone: str) -> int:
    """Freeze `period`'s figures as known now; audited as `release.create` (sync: settlementctl)."""
    if period not in catalogue.periods:
        raise ReleaseRefused(f"unknown period {period!r}; one of: {', '.join(catalogue.periods)}")
    if kind not in KINDS:
        raise ReleaseRefused(f"kind must be one of {', '.join(KINDS)}")
    if not note.strip() or len(note) > 2000:
        raise ReleaseRefused("a release needs a note (what it is, why now), at most 2000 characters")
    at = knowledge_barrier(engine)
    known = snapshot_at(engine, at, catalogue.rules)
    as_of = business_date(at, timezone)
    with Session(engine) as session, session.begin():
        fx = load_fx(session)
        windows = [window_of(t, as_of) for t in catalogue.targets_for(period)]
        frozen = asyncio.run(_frozen(known, fx, windows))
        release = Release(
            period=period,
            kind=kind,
            note=note,
            known_at=at,
            rule_set_id=known.rules.rule_set_id,
            created_by=audit.cli_actor(),
        )
        figures = [
            ReleaseFigure(
                target=w.code,
                currency=w.currency,
                amount=f.amount,
                events=f.events,
                contributors=len(f.banks),
                window_start=w.start,
                as_of=w.as_of,
            )
            for w, f in frozen
        ]
        release_id = insert_release(session, release, figures)
        audit.record(
            session,
            release.created_by,
            "release.create",
            f"release:{release_id}",
            {"period": period, "kind": kind, "known_at": at.isoformat(), "targets": len(figures)},
        )
    return release_id


def _summary(r: Release) -> ReleaseSummaryOut:
    return ReleaseSummaryOut(id=r.id, period=r.period, kind=r.kind, note=r.note, known_at=r.known_at)


def releases_out(session: Session) -> ReleasesOut:
    return ReleasesOut(releases=[_summary(r) for r in list_releases(session)])


def release_out(stored: StoredRelease, disclosure: Disclosure) -> ReleaseOut:
    r = stored.release
    figures = []
    for f in stored.figures:
        hidden = disclosure.hides(f.contributors)
        figures.append(
            ReleaseFigureOut(
                target=f.target,
                currency=f.currency,
                window_start=f.window_start,
                as_of=f.as_of,
                amount=None if hidden else money(f.amount, f.currency),
                events=None if hidden else f.events,
                suppressed=hidden,
                suppressed_reason=disclosure.reason if hidden else None,
            )
        )
    return ReleaseOut(
        id=r.id,
        period=r.period,
        kind=r.kind,
        note=r.note,
        known_at=r.known_at,
        rule_set_id=r.rule_set_id,
        figures=figures,
    )


def observation_status(final: ReleaseFigure | None, as_of: date, amount: Decimal) -> ObservationStatus | None:
    """Pure: provisional without a final release; final or revised against its figure when
    `as_of` is the release's (the same observation); None for another as_of."""
    if final is None:
        return "provisional"
    if final.as_of != as_of:
        return None
    return "final" if amount == final.amount else "revised"


@dataclass(frozen=True, slots=True)
class _Ledger:
    """What a revision read takes from the ledger, in one snapshot."""

    now: datetime
    before: tuple[EffectGroup, ...]  # effects known at the release
    since: tuple[EffectGroup, ...]  # committed after it, up to now
    final: StoredRelease | None
    fx: FxTable
    known: KnownAt  # now: `before` and `since` together


def _read_ledger(engine: Engine, catalogue: Catalogue, stored: StoredRelease) -> _Ledger:
    now = knowledge_barrier(engine)
    with ledger_snapshot(engine) as conn:
        rules = rules_at(conn, now, catalogue.rules)
        home = rules.rules.home_country
        before, _ = known_groups(conn, stored.release.known_at, home)
        since = effect_groups(conn, now, home, after=stored.release.known_at)
        with Session(bind=conn) as session:
            final = final_release(session, stored.release.period, now)
            fx = load_fx(session)
    # What is known now, built from the two halves (no third read of the ledger).
    groups = (*before, *since)
    known = KnownAt(now, LedgerSnapshot(increments_of(groups, rules.rules)), rules, groups)
    return _Ledger(now, tuple(before), tuple(since), final, fx, known)


def _change(events: int, amount: Decimal, currency: str, hidden: bool) -> ChangeOut:
    return ChangeOut(events=None if hidden else events, amount=None if hidden else money(amount, currency))


async def revisions_out(
    engine: Engine, catalogue: Catalogue, release_id: int, disclosure: Disclosure
) -> RevisionsOut | None:
    """GET /v1/releases/{id}/revisions (None: no such release)."""

    def read() -> tuple[StoredRelease, _Ledger] | None:
        with Session(engine) as session:
            stored = get_release(session, release_id)
        return None if stored is None else (stored, _read_ledger(engine, catalogue, stored))

    found = await asyncio.to_thread(read)
    if found is None:
        return None
    stored, ledger = found
    known, fx = ledger.known, ledger.fx
    rules = known.rules.rules
    final_by_target = {f.target: f for f in ledger.final.figures} if ledger.final else {}
    rows = []
    for published in stored.figures:
        w = Window(published.target, published.currency, published.window_start, published.as_of)
        today = await figure_in(known.snapshot, known.groups, rules, fx, w)
        again = await figure_of_groups(ledger.before, rules, fx, w)
        added = [g for g in ledger.since if g.added]
        subtracted = [g for g in ledger.since if not g.added]
        counted = await figure_of_groups(added, rules, fx, w)
        reversed_ = await figure_of_groups(subtracted, rules, fx, w)
        re_derived = again.amount - published.amount
        rounding = today.amount - again.amount - counted.amount - reversed_.amount
        late_banks = counted.banks | reversed_.banks
        published_hidden = disclosure.hides(published.contributors)
        today_hidden = disclosure.hides(len(today.banks))
        either = published_hidden or today_hidden
        explanation_hidden = either or disclosure.hides(len(late_banks))
        by_bank = None
        if not disclosure.applies:
            plus = await bank_amounts(added, rules, fx, w)
            minus = await bank_amounts(subtracted, rules, fx, w)
            by_bank = [
                BankChangeOut(
                    bank_id=bank,
                    counted=_change(*plus.get(bank, (0, Decimal(0))), w.currency, False),
                    reversed=_change(*minus.get(bank, (0, Decimal(0))), w.currency, False),
                )
                for bank in sorted(set(plus) | set(minus))
            ]
        currency = w.currency
        status = None if today_hidden else observation_status(final_by_target.get(w.code), w.as_of, today.amount)
        rows.append(
            RevisionOut(
                target=w.code,
                currency=currency,
                window_start=w.start,
                as_of=w.as_of,
                published=None if published_hidden else money(published.amount, currency),
                published_events=None if published_hidden else published.events,
                today=None if today_hidden else money(today.amount, currency),
                today_events=None if today_hidden else today.events,
                difference=None if either else money(today.amount - published.amount, currency),
                explained=ExplanationOut(
                    counted=_change(counted.events, counted.amount, currency, explanation_hidden),
                    reversed=_change(-reversed_.events, reversed_.amount, currency, explanation_hidden),
                    re_derived=None if explanation_hidden else money(re_derived, currency),
                    rounding=None if explanation_hidden else money(rounding, currency),
                    by_bank=by_bank,
                    suppressed=explanation_hidden,
                    suppressed_reason=disclosure.reason if explanation_hidden else None,
                ),
                observation_status=status,
                suppressed=either,
                suppressed_reason=disclosure.reason if either else None,
            )
        )
    return RevisionsOut(release=_summary(stored.release), known_at=ledger.now, revisions=rows)


def calendar_out(session: Session, promises: Sequence[Promise], today: date, timezone: str) -> CalendarOut:
    made = [Made(r.id, r.period, r.kind, business_date(r.known_at, timezone)) for r in list_releases(session)]
    return CalendarOut(
        today=today,
        timezone=timezone,
        entries=[
            CalendarEntryOut(
                period=s.promise.period,
                kind=s.promise.kind,
                due=s.promise.due,
                state=s.state,
                release_id=None if s.release is None else s.release.release_id,
                released_on=None if s.release is None else s.release.on,
            )
            for s in standings(promises, made, today)
        ],
    )


def final_figures(session: Session, period: str, at: datetime | None) -> StoredRelease | None:
    """The final release of `period` known at `at` (now when None), for observation status."""
    return final_release(session, period, at if at is not None else datetime.now(UTC))


async def with_observation_status(
    report: ProgressOut, sessions: sessionmaker[Session], known_at: datetime | None
) -> ProgressOut:
    """/v1/progress's rows with their observation status against the period's final release
    known at `known_at` (now when None); a suppressed row gets none."""

    def read() -> StoredRelease | None:
        with sessions() as session:
            return final_figures(session, report.period, known_at)

    final = await asyncio.to_thread(read)
    by_target = {f.target: f for f in final.figures} if final is not None else {}
    rows = []
    for row in report.targets:
        status = None
        if row.settled is not None and not row.suppressed:
            status = observation_status(by_target.get(row.code) if final else None, row.as_of, Decimal(row.settled))
        rows.append(
            row.model_copy(
                update={
                    "observation_status": status,
                    "final_release_id": None if final is None or status is None else final.release.id,
                }
            )
        )
    return report.model_copy(update={"targets": rows, "known_at": known_at})
