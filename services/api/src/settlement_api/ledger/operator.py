"""Operator views: the per-bank league table per target and reporting completeness.

The rules are pure functions (`league_rows`, `assess_bank`); `league` and `completeness`
fetch through the repository (PostgreSQL) and the bucket store (Redis) and apply them. Settled amounts come from
the per-bank Redis buckets (`b|<bank>|...`), converted into the target currency at read time
exactly like /v1/progress; counts and receipt times come from PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session, sessionmaker

from settlement_api.kit.bucket_store import FigureStore
from settlement_api.kit.plan_units import in_plan_unit, money, plan_unit_label
from settlement_api.kit.readmodel import ReadPlan, Stream, evaluate, plan_reads
from settlement_api.ledger.repository import (
    Activity,
    BankRow,
    TargetCounts,
    bank_activity,
    registered_banks,
    target_counts,
)
from settlement_api.ledger.schemas import (
    BankCompletenessOut,
    CompletenessOut,
    LeagueOut,
    LeagueRowOut,
    LeagueTargetOut,
)
from settlement_api.settings import ApiSettings
from settlement_core.business_days import OutsideCalendar, business_date, business_days_between, weekdays_between
from settlement_core.catalogue import Target
from settlement_core.fx import FxTable
from settlement_core.pace import effective_as_of
from settlement_core.rules import CountingRules

RATIO_QUANTUM = Decimal("0.000001")

logger = logging.getLogger(__name__)


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    if whole == 0:
        return Decimal(0).quantize(RATIO_QUANTUM)
    return (part / whole).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)


def league_rows(
    currency: str,
    settled: Mapping[str, Decimal],
    counts: Mapping[str, TargetCounts],
    names: Mapping[str, str],
) -> tuple[Decimal, list[LeagueRowOut]]:
    """Banks with volume or counted events, largest settled first (ties by bank id)."""
    banks = {b for b, amount in settled.items() if amount != 0} | {b for b, c in counts.items() if c.events}
    total = sum((settled.get(b, Decimal(0)) for b in banks), Decimal(0))
    ordered = sorted(banks, key=lambda b: (-settled.get(b, Decimal(0)), b))
    rows = []
    for rank, bank in enumerate(ordered, start=1):
        amount = settled.get(bank, Decimal(0))
        count = counts.get(bank)
        rows.append(
            LeagueRowOut(
                rank=rank,
                bank_id=bank,
                name=names.get(bank, bank),
                settled=money(amount, currency),
                settled_plan_unit=in_plan_unit(amount),
                share=str(ratio(amount, total)),
                events=count.events if count else 0,
                last_event_received=count.last_received if count else None,
            )
        )
    return total, rows


async def league(
    store: FigureStore,
    fx: FxTable,
    sessions: sessionmaker[Session],
    targets: tuple[Target, ...],
    rules: CountingRules,
    as_of: date,
) -> LeagueOut:
    seen = await store.seen()
    plans: dict[tuple[str, str], ReadPlan] = {}
    for target in targets:
        code = target.code
        end = effective_as_of(target, as_of)
        for bank in seen.banks:
            streams = [Stream(code, cur, bank) for cur in seen.currencies(code)]
            plans[(code, bank)] = plan_reads(streams, target.window_start, end, target.currency, fx)
    values = await store.sum_fields(list(dict.fromkeys(f for p in plans.values() for f in p.fields)))
    names = {b.bank_id: b.name for b in await registered_banks(sessions)}
    out: list[LeagueTargetOut] = []
    for target in targets:
        end = effective_as_of(target, as_of)
        counts = (
            await target_counts(sessions, target.code, target.window_start, end, rules)
            if end >= target.window_start
            else {}
        )
        out.append(_league_target(target, end, plans, values, counts, names, seen.banks))
    return LeagueOut(as_of=as_of, targets=out)


def _league_target(
    target: Target,
    end: date,
    plans: Mapping[tuple[str, str], ReadPlan],
    values: Mapping[str, int],
    counts: Mapping[str, TargetCounts],
    names: Mapping[str, str],
    banks: frozenset[str],
) -> LeagueTargetOut:
    code = target.code
    settled = {bank: evaluate(plans[(code, bank)], values, target.currency).converted for bank in banks}
    total, rows = league_rows(target.currency, settled, counts, names)
    return LeagueTargetOut(
        code=code,
        name_zh=target.name_zh,
        name_en=target.name_en,
        currency=target.currency,
        plan_unit=plan_unit_label(target.currency),
        as_of=end,
        settled=money(total, target.currency),
        settled_plan_unit=in_plan_unit(total),
        banks=rows,
    )


def silent_days_since(last: date, today: date) -> int:
    """Business days after `last` up to today. Where the working-day calendar has no notice
    for a year yet (every 1 January until a release with the new notice is locked), the
    view counts Monday to Friday instead of failing: a bank silent over a holiday of that
    year is flagged early, which errs on the side of looking (docs/statistics.md)."""
    try:
        return business_days_between(last, today)
    except OutsideCalendar as exc:
        logger.warning("working-day calendar does not cover %s: silence counted Monday to Friday", exc.day)
        return weekdays_between(last, today)


def assess_bank(
    bank: BankRow,
    activity: Activity | None,
    today: date,
    timezone: str,
    silent_days: int,
    threshold: Decimal,
) -> BankCompletenessOut:
    """Silent: an active bank that sent nothing on any of the last `silent_days` business days
    up to today (never having sent counts as silent). DLQ rate: DLQ entries / everything
    received in the window; high when strictly above the threshold."""
    stamps = [] if activity is None else [t for t in (activity.last_ledger, activity.last_dlq) if t is not None]
    last = max(stamps) if stamps else None
    days = None if last is None else silent_days_since(business_date(last, timezone), today)
    ledger = activity.ledger_since if activity else 0
    dlq = activity.dlq_since if activity else 0
    rate = ratio(Decimal(dlq), Decimal(ledger + dlq))
    return BankCompletenessOut(
        bank_id=bank.bank_id,
        name=bank.name,
        active=bank.active,
        last_event_received=last,
        business_days_silent=days,
        silent=bank.active and (days is None or days >= silent_days),
        events_in_window=ledger,
        dlq_in_window=dlq,
        unknown_country_in_window=activity.unknown_country_since if activity else 0,
        dlq_rate=str(rate),
        dlq_rate_high=bank.active and rate > threshold,
    )


async def completeness(sessions: sessionmaker[Session], settings: ApiSettings, now: datetime) -> CompletenessOut:
    timezone = settings.business_timezone
    banks = await registered_banks(sessions)
    activity = await bank_activity(sessions, now - timedelta(days=settings.dlq_rate_window_days))
    today = business_date(now, timezone)
    rows = [
        assess_bank(
            b, activity.get(b.bank_id), today, timezone, settings.silent_business_days, settings.dlq_rate_threshold
        )
        for b in banks
    ]
    return CompletenessOut(
        today=today,
        timezone=timezone,
        silent_business_days=settings.silent_business_days,
        dlq_rate_threshold=str(settings.dlq_rate_threshold),
        dlq_rate_window_days=settings.dlq_rate_window_days,
        silent=[r.bank_id for r in rows if r.silent],
        dlq_rate_high=[r.bank_id for r in rows if r.dlq_rate_high],
        banks=rows,
    )
