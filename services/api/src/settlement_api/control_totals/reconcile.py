"""Control totals at the edge: each operation is one PostgreSQL transaction holding the
bank-period's advisory lock (repository.lock_bank_period), in a worker thread.

Reconciling a bank's period reads its current declaration and counted events, lets the pure
`service.plan_breaks` decide, and writes the breaks and their trail. It runs whenever the
figures are looked at or changed: on a declaration, on the bank's read of the period, on the
operator's list (every declared period) and before an acknowledgement. So a late event closes
its break at the first look after it is counted; the trail's `counted_through` says when the
events it compared arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from settlement_api.control_totals import repository as repo
from settlement_api.control_totals.reminders import missing_declarations
from settlement_api.control_totals.schemas import (
    BreakListOut,
    BreakOut,
    ComparisonOut,
    ControlTotalsOut,
    DeclarationOut,
    FiguresOut,
    LineOut,
    MissingDeclarationOut,
    MissingListOut,
    TrailEntryOut,
    VersionOut,
)
from settlement_api.control_totals.service import (
    BreakStatus,
    Cause,
    ChangeBreak,
    Declaration,
    Figures,
    LineComparison,
    LineKey,
    OpenBreak,
    compare,
    plan_breaks,
)
from settlement_api.kit.months import Month, parse_month
from settlement_core import audit
from settlement_core.business_days import business_date
from settlement_core.db.engine import translate_errors
from settlement_core.db.models import ControlTotalBreak, ControlTotalBreakEntry
from settlement_core.deadlines import Deadline, lateness
from settlement_core.money import format_amount
from settlement_core.problems import Problem

SYSTEM = "system"
# The operator's list answers at most this many breaks (oldest bank and period first).
MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class Reconciler:
    """What every operation needs: the sessions, the control-totals deadline, the timezone."""

    sessions: sessionmaker[Session]
    deadline: Deadline | None  # None: no deadlines file (ApiSettings.deadlines_path)
    timezone: str


def _figures(figures: Figures, currency: str) -> FiguresOut:
    return FiguresOut(count=figures.count, amount=format_amount(figures.amount, currency))


def _reconcile(session: Session, bank_id: str, period: Month, now: datetime, cause: Cause) -> None:
    """With the lock held: bring the period's breaks in line with the ledger."""
    declaration = repo.current_declaration(session, bank_id, period.label)
    if declaration is None:
        return
    counted = repo.counted_lines(session, bank_id, period.first_day, period.last_day)
    latest = repo.latest_breaks(session, bank_id, period.label)
    open_keys = [k for k, b in latest.items() if b.status is BreakStatus.OPEN]
    comparisons = compare(declaration.lines, counted.figures, open_keys)
    for action in plan_breaks(comparisons, latest, cause):
        c = action.comparison
        if isinstance(action, OpenBreak):
            break_id, verb = repo.insert_break(session, bank_id, period.label, c, now), "opened"
        elif isinstance(action, ChangeBreak):
            break_id, verb = action.break_id, "changed"
            repo.update_break(session, break_id, c, BreakStatus.OPEN, None)
        else:
            break_id, verb = action.break_id, "closed"
            repo.update_break(session, break_id, c, BreakStatus.CLOSED, now)
        repo.append_trail(
            session,
            break_id,
            at=now,
            action=verb,
            actor=SYSTEM,
            note=action.cause.value,
            declaration_version=declaration.version,
            declared=c.declared,
            counted=c.counted,
            counted_through=counted.through.get(c.key),
        )


def _trail_entry(entry: ControlTotalBreakEntry, currency: str) -> TrailEntryOut:
    return TrailEntryOut(
        at=entry.at,
        action=entry.action,
        actor=entry.actor,
        note=entry.note,
        declaration_version=entry.declaration_version,
        declared=_figures(Figures(int(entry.declared_count), Decimal(entry.declared_amount)), currency),
        counted=_figures(Figures(int(entry.counted_count), Decimal(entry.counted_amount)), currency),
        counted_through=entry.counted_through,
    )


def _break_out(row: ControlTotalBreak, trail: Sequence[ControlTotalBreakEntry]) -> BreakOut:
    declared = Figures(int(row.declared_count), Decimal(row.declared_amount))
    counted = Figures(int(row.counted_count), Decimal(row.counted_amount))
    return BreakOut(
        id=row.id,
        bank_id=row.bank_id,
        period=row.period,
        target=row.target,
        currency=row.currency,
        status=row.status,
        declared=_figures(declared, row.currency),
        counted=_figures(counted, row.currency),
        count_difference=declared.count - counted.count,
        amount_difference=format_amount(declared.amount - counted.amount, row.currency),
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        trail=[_trail_entry(e, row.currency) for e in trail],
    )


def _comparison_out(c: LineComparison) -> ComparisonOut:
    currency = c.key.currency
    return ComparisonOut(
        target=c.key.target,
        currency=currency,
        declared=_figures(c.declared, currency),
        counted=_figures(c.counted, currency),
        count_difference=c.count_difference,
        amount_difference=format_amount(c.amount_difference, currency),
        balanced=c.balanced,
    )


def _view(session: Session, reconciler: Reconciler, bank_id: str, period: Month) -> ControlTotalsOut | None:
    declaration = repo.current_declaration(session, bank_id, period.label)
    if declaration is None:
        return None
    counted = repo.counted_lines(session, bank_id, period.first_day, period.last_day)
    # The calendar never guesses (docs/statistics.md): no deadline rather than a wrong one.
    timeliness = None
    if reconciler.deadline is not None:
        arrived = business_date(declaration.declared_at, reconciler.timezone)
        timeliness = lateness(reconciler.deadline, period.first_day, arrived)
    due = None if timeliness is None else timeliness.due
    late = None if timeliness is None else timeliness.working_days_late
    breaks = repo.breaks_of_period(session, bank_id, period.label)
    trails = repo.trails(session, [b.id for b in breaks])
    return ControlTotalsOut(
        bank_id=bank_id,
        period=period.label,
        declaration=DeclarationOut(
            version=declaration.version,
            declared_at=declaration.declared_at,
            due=due,
            working_days_late=late,
            lines=[
                LineOut(target=k.target, currency=k.currency, count=f.count, amount=format_amount(f.amount, k.currency))
                for k, f in sorted(declaration.lines.items())
            ],
        ),
        versions=[VersionOut(version=v, declared_at=at) for v, at in repo.versions(session, bank_id, period.label)],
        comparison=[_comparison_out(c) for c in compare(declaration.lines, counted.figures)],
        breaks=[_break_out(b, trails[b.id]) for b in breaks],
    )


Declared = tuple[bool, ControlTotalsOut]


def for_bank(view: ControlTotalsOut) -> ControlTotalsOut:
    """The view a bank gets: an acknowledgement says "operator", not which operator account
    (operators' names are the regulator's internal identities; the note and time are shown)."""
    breaks = [
        b.model_copy(
            update={
                "trail": [
                    t.model_copy(update={"actor": "operator"}) if t.actor.startswith("operator:") else t
                    for t in b.trail
                ]
            }
        )
        for b in view.breaks
    ]
    return view.model_copy(update={"breaks": breaks})


def _declare(reconciler: Reconciler, bank_id: str, declaration: Declaration, now: datetime) -> Declared:
    period = declaration.period
    lines_hash = declaration.lines_hash()
    with reconciler.sessions() as session, session.begin():
        repo.lock_bank_period(session, bank_id, period.label)
        current = repo.current_declaration(session, bank_id, period.label)
        created = current is None or current.lines_hash != lines_hash
        if created:
            version = 1 if current is None else current.version + 1
            repo.insert_declaration(session, bank_id, period.label, version, lines_hash, now, declaration.lines)
        _reconcile(session, bank_id, period, now, Cause.DECLARATION)
        view = _view(session, reconciler, bank_id, period)
    assert view is not None  # declared in this transaction
    return created, view


async def declare(reconciler: Reconciler, bank_id: str, declaration: Declaration, now: datetime) -> Declared:
    """(True, the new version) or (False, the stored one when the same lines were sent again)."""
    with translate_errors():  # PostgreSQL unreachable: 503 with Retry-After (problems.py)
        return await asyncio.to_thread(_declare, reconciler, bank_id, declaration, now)


def _read(reconciler: Reconciler, bank_id: str, period: Month, now: datetime) -> ControlTotalsOut | None:
    with reconciler.sessions() as session, session.begin():
        repo.lock_bank_period(session, bank_id, period.label)
        _reconcile(session, bank_id, period, now, Cause.EVENTS)
        return _view(session, reconciler, bank_id, period)


async def read(reconciler: Reconciler, bank_id: str, period: Month, now: datetime) -> ControlTotalsOut | None:
    """The period's declaration, comparison and breaks, reconciled now; None: not declared."""
    with translate_errors():  # PostgreSQL unreachable: 503 with Retry-After (problems.py)
        return await asyncio.to_thread(_read, reconciler, bank_id, period, now)


def _reconcile_all(reconciler: Reconciler, now: datetime) -> None:
    with reconciler.sessions() as session:
        declared = repo.declared_periods(session)
    for bank_id, label in declared:
        period = parse_month(label)
        if period is None:  # only check_declaration's periods are stored
            continue
        with reconciler.sessions() as session, session.begin():
            repo.lock_bank_period(session, bank_id, label)
            _reconcile(session, bank_id, period, now, Cause.EVENTS)


def _list(reconciler: Reconciler, statuses: Sequence[str], now: datetime) -> list[BreakOut]:
    _reconcile_all(reconciler, now)
    with reconciler.sessions() as session:
        rows = repo.breaks_with_status(session, statuses, MAX_LISTED)
        trails = repo.trails(session, [b.id for b in rows])
        return [_break_out(b, trails[b.id]) for b in rows]


async def list_breaks(reconciler: Reconciler, status: str, now: datetime) -> BreakListOut:
    """Every bank's breaks with `status` ("all": any), after reconciling every declared period."""
    statuses = [s.value for s in BreakStatus] if status == "all" else [status]
    with translate_errors():  # PostgreSQL unreachable: 503 with Retry-After (problems.py)
        breaks = await asyncio.to_thread(_list, reconciler, statuses, now)
    return BreakListOut(status=status, breaks=breaks)


def _acknowledge(reconciler: Reconciler, break_id: int, operator: str, note: str, now: datetime) -> BreakOut:
    with reconciler.sessions() as session, session.begin():
        found = repo.find_break(session, break_id)
        if found is None:
            raise Problem(404, "Not found", f"No control-total break {break_id}.", "not-found")
        bank_id, label = found.bank_id, found.period
        period = parse_month(label)
        repo.lock_bank_period(session, bank_id, label)
        if period is not None:
            # Late events may have closed it since the operator looked: reconcile first.
            _reconcile(session, bank_id, period, now, Cause.EVENTS)
        session.refresh(found)
        if found.status != BreakStatus.OPEN.value:
            raise Problem(
                409,
                "Conflict",
                f"Break {break_id} is {found.status}, not open; only an open break is acknowledged.",
                "conflict",
                extra={"break_status": found.status},
            )
        declaration = repo.current_declaration(session, bank_id, label)
        counted = repo.counted_lines(session, bank_id, period.first_day, period.last_day) if period else None
        repo.resolve_break(session, break_id, BreakStatus.ACKNOWLEDGED, now)
        actor = f"operator:{operator}"
        repo.append_trail(
            session,
            break_id,
            at=now,
            action="acknowledged",
            actor=actor,
            note=note,
            declaration_version=declaration.version if declaration else 0,
            declared=Figures(int(found.declared_count), Decimal(found.declared_amount)),
            counted=Figures(int(found.counted_count), Decimal(found.counted_amount)),
            counted_through=counted.through.get(_key(found)) if counted else None,
        )
        audit.record(
            session,
            actor,
            "control_totals.acknowledge",
            f"{bank_id}/{label}/{found.target}/{found.currency}",
            {"break_id": break_id, "note": note},
        )
        session.flush()
        session.refresh(found)
        return _break_out(found, repo.trails(session, [break_id])[break_id])


def _key(row: ControlTotalBreak) -> LineKey:
    return LineKey(row.target, row.currency)


async def acknowledge(reconciler: Reconciler, break_id: int, operator: str, note: str, now: datetime) -> BreakOut:
    """An operator accepts an open break as it is, with a note (trail and audit log);
    404 for an unknown break, 409 for one not open (closed by events or acknowledged)."""
    with translate_errors():  # PostgreSQL unreachable: 503 with Retry-After (problems.py)
        return await asyncio.to_thread(_acknowledge, reconciler, break_id, operator, note, now)


def _signs(reconciler: Reconciler, bank_id: str) -> bool:
    with reconciler.sessions() as session:
        return repo.bank_signs(session, bank_id)


async def signs_submissions(reconciler: Reconciler, bank_id: str) -> bool:
    """Whether the bank is registered to sign what it submits (an HMAC secret or an Ed25519 key)."""
    with translate_errors():  # PostgreSQL unreachable: 503 with Retry-After (problems.py)
        return await asyncio.to_thread(_signs, reconciler, bank_id)


def _missing(reconciler: Reconciler, since: Month, now: datetime) -> MissingListOut:
    today = business_date(now, reconciler.timezone)
    with reconciler.sessions() as session:
        banks = repo.owing_banks(session, since.first_day, reconciler.timezone)
        declared = set(repo.declared_periods(session))
    found = missing_declarations(banks, declared, since, today, reconciler.deadline)
    return MissingListOut(
        today=today,
        timezone=reconciler.timezone,
        since=since.label,
        missing=[
            MissingDeclarationOut(
                bank_id=m.bank_id,
                period=m.period.label,
                due=m.due,
                state=m.state.value,
                working_days_overdue=m.working_days_overdue,
            )
            for m in found[:MAX_LISTED]
        ],
    )


async def missing(reconciler: Reconciler, since: Month, now: datetime) -> MissingListOut:
    """Control totals owed from `since` and not declared (reminders.py), at most MAX_LISTED."""
    with translate_errors():
        return await asyncio.to_thread(_missing, reconciler, since, now)
