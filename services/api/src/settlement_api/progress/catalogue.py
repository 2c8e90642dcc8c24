"""GET /v1/targets: the catalogue as published (every period, categories, rules, references)."""

from __future__ import annotations

from decimal import Decimal

from settlement_api.kit.plan_units import in_plan_unit, money, plan_unit_label
from settlement_api.progress.schemas import CategoryOut, RuleOut, RuleWhenOut, TargetOut, TargetsOut, Window
from settlement_api.progress.service import reference_out
from settlement_core.catalogue import Catalogue, Target
from settlement_core.rules import Rule


def target_out(target: Target) -> TargetOut:
    return TargetOut(
        code=target.code,
        period=target.period,
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


def rule_out(rule: Rule) -> RuleOut:
    return RuleOut(
        id=rule.rule_id,
        target=rule.target,
        action=rule.action.value,
        when=RuleWhenOut(
            categories=sorted(rule.categories),
            currencies=None if rule.currencies is None else sorted(rule.currencies),
            counterparty=None if rule.counterparty is None else rule.counterparty.value,
            direction=None if rule.direction is None else rule.direction.value,
        ),
        enabled=rule.enabled,
        source=rule.source,
        field=rule.field,
        message=rule.message,
    )


def list_targets(catalogue: Catalogue) -> TargetsOut:
    return TargetsOut(
        targets=[target_out(t) for t in catalogue.targets],
        periods=list(catalogue.periods),
        latest_period=catalogue.latest_period,
        home_country=catalogue.rules.home_country,
        categories=[CategoryOut(code=c.code, name_zh=c.name_zh, name_en=c.name_en) for c in catalogue.categories],
        rules=[rule_out(r) for r in catalogue.rules.rules],
        references=[reference_out(r) for r in catalogue.references],
    )
