"""The plan's display units (亿元 / 亿美元) and Decimal-to-JSON-string formatting."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from settlement_core.catalogue import PLAN_UNIT_LABEL, YI
from settlement_core.money import format_amount

# 0.0001 亿 = 10,000 units: fine enough to see daily movement against 200亿 .. 5万亿.
PLAN_UNIT_QUANTUM = Decimal("0.0001")


def plan_unit_label(currency: str) -> str:
    return PLAN_UNIT_LABEL.get(currency, f"亿{currency}")


def in_plan_unit(amount: Decimal) -> str:
    return str((amount / YI).quantize(PLAN_UNIT_QUANTUM, rounding=ROUND_HALF_EVEN))


def money(amount: Decimal, currency: str) -> str:
    return format_amount(amount, currency)


def amounts_by_currency(values: dict[str, Decimal]) -> dict[str, str]:
    return {c: format_amount(v, c) for c, v in sorted(values.items())}
