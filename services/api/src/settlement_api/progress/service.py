from __future__ import annotations

from datetime import date
from decimal import Decimal

from settlement_api.bucket_store import Seen
from settlement_api.plan_units import amounts_by_currency, in_plan_unit, money, plan_unit_label
from settlement_api.progress.repository import Settled, settled_by_target
from settlement_api.progress.schemas import ProgressOut, TargetProgressOut
from settlement_api.runtime import Runtime
from settlement_core.pace import effective_as_of, progress
from settlement_core.targets import Target


def target_progress(target: Target, settled: Settled, as_of: date, on_track_pace: Decimal) -> TargetProgressOut:
    """Pure: one target's progress row. `as_of` is the requested date: settlement_core.pace
    caps it at the window end, and a closed window that missed its target reads `behind`."""
    amount = settled.amounts.converted
    result = progress(target, amount, as_of, on_track_pace)
    currency = target.currency
    return TargetProgressOut(
        code=target.code.value,
        name_zh=target.name_zh,
        name_en=target.name_en,
        currency=currency,
        plan_unit=plan_unit_label(currency),
        display=target.display,
        window_start=target.window_start,
        window_end=target.window_end,
        as_of=result.as_of,
        target_amount=money(Decimal(target.amount), currency),
        target_amount_plan_unit=in_plan_unit(Decimal(target.amount)),
        settled=money(amount, currency),
        settled_plan_unit=in_plan_unit(amount),
        settled_by_currency=amounts_by_currency(settled.amounts.native()),
        unconverted=amounts_by_currency(settled.amounts.unconverted()),
        progress_ratio=str(result.progress_ratio),
        expected_ratio=str(result.expected_ratio),
        pace=None if result.pace is None else str(result.pace),
        projected_total=None if result.projected_total is None else money(result.projected_total, currency),
        projected_total_plan_unit=None if result.projected_total is None else in_plan_unit(result.projected_total),
        status=result.status.value,
        events_counted=settled.events_counted,
    )


async def progress_report(runtime: Runtime, requested: date | None, seen: Seen | None = None) -> ProgressOut:
    as_of = requested if requested is not None else runtime.today()
    capped = {t.code.value: effective_as_of(t, as_of) for t in runtime.targets}
    fx = await runtime.fx.table()
    settled = await settled_by_target(runtime.store, fx, runtime.targets, capped, seen)
    pace = runtime.settings.on_track_pace
    return ProgressOut(
        as_of=as_of,
        timezone=runtime.settings.business_timezone,
        on_track_pace=str(pace),
        targets=[target_progress(t, settled[t.code.value], as_of, pace) for t in runtime.targets],
    )
