"""Every SQL statement of control totals. Each function runs in the caller's session and
transaction (reconcile.py opens them, in worker threads); none decides anything.

Counting a bank's month reads its ledger rows through the (bank_id, event_id) unique index
(bank_id is its leading column) and filters on the value date: the cost grows with the
bank's rows, not the ledger's. An index on (bank_id, value_date) would make it grow with the
month's rows only, but it would cost every aggregator insert an index entry; not added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from settlement_api.control_totals.reminders import OwingBank
from settlement_api.control_totals.service import BreakState, BreakStatus, Figures, LineComparison, LineKey
from settlement_api.kit.months import Month
from settlement_core.db.models import (
    Bank,
    BankPublicKey,
    ControlTotalBreak,
    ControlTotalBreakEntry,
    ControlTotalDeclaration,
    ControlTotalLine,
    LedgerEvent,
)
from settlement_core.vocabulary import LedgerStatus


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    id: int
    version: int
    lines_hash: str
    declared_at: datetime
    lines: Mapping[LineKey, Figures]


@dataclass(frozen=True, slots=True)
class Counted:
    figures: Mapping[LineKey, Figures]
    # Latest receipt (ingested_at) of the counted events per line.
    through: Mapping[LineKey, datetime]


def lock_bank_period(session: Session, bank_id: str, period: str) -> None:
    """Serialises declarations and reconciliations of one bank's period across every API
    replica until the transaction ends (two identical first declarations cannot both be
    version 1; two reconciliations cannot both open the same break)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"control-totals|{bank_id}|{period}"}
    )


def bank_signs(session: Session, bank_id: str) -> bool:
    """Whether the bank must sign its submissions (an HMAC secret or an Ed25519 key)."""
    secret = session.scalar(select(Bank.hmac_secret_enc.is_not(None)).where(Bank.bank_id == bank_id))
    keys = session.scalar(select(func.count()).select_from(BankPublicKey).where(BankPublicKey.bank_id == bank_id))
    return bool(secret) or bool(keys)


def current_declaration(session: Session, bank_id: str, period: str) -> StoredDeclaration | None:
    row = session.execute(
        select(ControlTotalDeclaration)
        .where(ControlTotalDeclaration.bank_id == bank_id, ControlTotalDeclaration.period == period)
        .order_by(ControlTotalDeclaration.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    line = ControlTotalLine
    lines = session.execute(
        select(line.target, line.currency, line.count, line.amount).where(line.declaration_id == row.id)
    ).all()
    return StoredDeclaration(
        row.id,
        row.version,
        row.lines_hash,
        row.declared_at,
        {LineKey(t, c): Figures(int(n), Decimal(a)) for t, c, n, a in lines},
    )


def versions(session: Session, bank_id: str, period: str) -> list[tuple[int, datetime]]:
    rows = session.execute(
        select(ControlTotalDeclaration.version, ControlTotalDeclaration.declared_at)
        .where(ControlTotalDeclaration.bank_id == bank_id, ControlTotalDeclaration.period == period)
        .order_by(ControlTotalDeclaration.version)
    ).all()
    return [(int(v), at) for v, at in rows]


def insert_declaration(
    session: Session,
    bank_id: str,
    period: str,
    version: int,
    lines_hash: str,
    declared_at: datetime,
    lines: Mapping[LineKey, Figures],
) -> int:
    declaration_id = int(
        session.execute(
            insert(ControlTotalDeclaration)
            .values(bank_id=bank_id, period=period, version=version, lines_hash=lines_hash, declared_at=declared_at)
            .returning(ControlTotalDeclaration.id)
        ).scalar_one()
    )
    if lines:
        session.execute(
            insert(ControlTotalLine),
            [
                {
                    "declaration_id": declaration_id,
                    "target": k.target,
                    "currency": k.currency,
                    "count": f.count,
                    "amount": f.amount,
                }
                for k, f in lines.items()
            ],
        )
    return declaration_id


def counted_lines(session: Session, bank_id: str, first: date, last: date) -> Counted:
    """The bank's counted events with a value date in [first, last], per declared category
    and original currency (an event with two categories is in both lines)."""
    rows = session.execute(
        text("""
            SELECT c.target, e.currency, count(*), sum(e.amount), max(e.ingested_at)
            FROM ledger_events e CROSS JOIN LATERAL unnest(e.categories) AS c(target)
            WHERE e.bank_id = :bank AND e.status = :counted AND e.value_date BETWEEN :first AND :last
            GROUP BY c.target, e.currency
        """),
        {"bank": bank_id, "counted": LedgerStatus.COUNTED.value, "first": first, "last": last},
    ).all()
    figures = {LineKey(t, c): Figures(int(n), Decimal(s)) for t, c, n, s, _ in rows}
    through = {LineKey(t, c): latest for t, c, _, _, latest in rows if latest is not None}
    return Counted(figures, through)


def _state(row: ControlTotalBreak) -> BreakState:
    return BreakState(
        row.id,
        LineKey(row.target, row.currency),
        BreakStatus(row.status),
        Figures(int(row.declared_count), Decimal(row.declared_amount)),
        Figures(int(row.counted_count), Decimal(row.counted_amount)),
    )


def latest_breaks(session: Session, bank_id: str, period: str) -> dict[LineKey, BreakState]:
    """The latest break of each line of the period (open or resolved)."""
    rows = session.execute(
        select(ControlTotalBreak)
        .where(ControlTotalBreak.bank_id == bank_id, ControlTotalBreak.period == period)
        .order_by(ControlTotalBreak.target, ControlTotalBreak.currency, ControlTotalBreak.id.desc())
        .distinct(ControlTotalBreak.target, ControlTotalBreak.currency)
    ).scalars()
    return {LineKey(r.target, r.currency): _state(r) for r in rows}


def insert_break(session: Session, bank_id: str, period: str, comparison: LineComparison, at: datetime) -> int:
    return int(
        session.execute(
            insert(ControlTotalBreak)
            .values(
                bank_id=bank_id,
                period=period,
                target=comparison.key.target,
                currency=comparison.key.currency,
                status=BreakStatus.OPEN.value,
                declared_count=comparison.declared.count,
                declared_amount=comparison.declared.amount,
                counted_count=comparison.counted.count,
                counted_amount=comparison.counted.amount,
                opened_at=at,
            )
            .returning(ControlTotalBreak.id)
        ).scalar_one()
    )


def update_break(
    session: Session, break_id: int, comparison: LineComparison, status: BreakStatus, resolved_at: datetime | None
) -> None:
    session.execute(
        update(ControlTotalBreak)
        .where(ControlTotalBreak.id == break_id)
        .values(
            status=status.value,
            declared_count=comparison.declared.count,
            declared_amount=comparison.declared.amount,
            counted_count=comparison.counted.count,
            counted_amount=comparison.counted.amount,
            resolved_at=resolved_at,
        )
    )


def resolve_break(session: Session, break_id: int, status: BreakStatus, at: datetime) -> None:
    session.execute(
        update(ControlTotalBreak).where(ControlTotalBreak.id == break_id).values(status=status.value, resolved_at=at)
    )


def append_trail(
    session: Session,
    break_id: int,
    *,
    at: datetime,
    action: str,
    actor: str,
    note: str,
    declaration_version: int,
    declared: Figures,
    counted: Figures,
    counted_through: datetime | None,
) -> None:
    session.execute(
        insert(ControlTotalBreakEntry).values(
            break_id=break_id,
            at=at,
            action=action,
            actor=actor,
            note=note,
            declaration_version=declaration_version,
            declared_count=declared.count,
            declared_amount=declared.amount,
            counted_count=counted.count,
            counted_amount=counted.amount,
            counted_through=counted_through,
        )
    )


def find_break(session: Session, break_id: int) -> ControlTotalBreak | None:
    return session.get(ControlTotalBreak, break_id)


def breaks_of_period(session: Session, bank_id: str, period: str) -> list[ControlTotalBreak]:
    return list(
        session.execute(
            select(ControlTotalBreak)
            .where(ControlTotalBreak.bank_id == bank_id, ControlTotalBreak.period == period)
            .order_by(ControlTotalBreak.id)
        ).scalars()
    )


def breaks_with_status(session: Session, statuses: Sequence[str], limit: int) -> list[ControlTotalBreak]:
    return list(
        session.execute(
            select(ControlTotalBreak)
            .where(ControlTotalBreak.status.in_(statuses))
            .order_by(ControlTotalBreak.bank_id, ControlTotalBreak.period, ControlTotalBreak.id)
            .limit(limit)
        ).scalars()
    )


def trails(session: Session, break_ids: Sequence[int]) -> dict[int, list[ControlTotalBreakEntry]]:
    found: dict[int, list[ControlTotalBreakEntry]] = {i: [] for i in break_ids}
    if not break_ids:
        return found
    for entry in session.execute(
        select(ControlTotalBreakEntry)
        .where(ControlTotalBreakEntry.break_id.in_(break_ids))
        .order_by(ControlTotalBreakEntry.break_id, ControlTotalBreakEntry.id)
    ).scalars():
        found[entry.break_id].append(entry)
    return found


def declared_periods(session: Session) -> list[tuple[str, str]]:
    """Every (bank, period) with a declaration: what a full reconciliation goes through."""
    rows = session.execute(
        select(ControlTotalDeclaration.bank_id, ControlTotalDeclaration.period)
        .distinct()
        .order_by(ControlTotalDeclaration.bank_id, ControlTotalDeclaration.period)
    ).all()
    return [(str(bank), str(period)) for bank, period in rows]


def owing_banks(session: Session, since: date, timezone: str) -> list[OwingBank]:
    """Every active bank with its registration date and the months (from `since`) of its
    events. The months come from one pass over the ledger's value dates from `since` (no
    index on value_date: an operator's read, bounded by `since`)."""
    month = func.date_trunc("month", LedgerEvent.value_date)
    months: dict[str, set[Month]] = {}
    for bank_id, first_day in session.execute(
        select(LedgerEvent.bank_id, month).where(LedgerEvent.value_date >= since).group_by(LedgerEvent.bank_id, month)
    ):
        months.setdefault(bank_id, set()).add(Month(first_day.year, first_day.month))
    banks = session.execute(
        select(Bank.bank_id, func.timezone(timezone, Bank.created_at)).where(Bank.active).order_by(Bank.bank_id)
    ).all()
    return [OwingBank(bank_id, created.date(), frozenset(months.get(bank_id, ()))) for bank_id, created in banks]
