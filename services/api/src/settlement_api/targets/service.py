from __future__ import annotations

from decimal import Decimal

from settlement_api.plan_units import in_plan_unit, money, plan_unit_label
from settlement_api.targets.schemas import TargetOut, TargetsOut, Window
from settlement_core.targets import Target


def target_out(target: Target) -> TargetOut:
    return TargetOut(
        code=target.code.value,
        name_zh=target.name_zh,
        name_en=target.name_en,
        currency=target.currency,
        amount=money(Decimal(target.amount), target.currency),
        amount_plan_unit=in_plan_unit(Decimal(target.amount)),
        plan_unit=plan_unit_label(target.currency),
        display=target.display,
        window=Window(start=target.window_start, end=target.window_end, days=target.window_days),
        source=target.source,
    )


def list_targets(targets: tuple[Target, ...]) -> TargetsOut:
    return TargetsOut(targets=[target_out(t) for t in targets])
