"""The data-quality score (issue 25 step 5; docs/statistics.md, "Data-quality score"):

- GET /v1/banks/{bank_id}/quality?period=YYYY-MM: a bank's score and its components (its
  own key; operators any bank, an audited per-bank read);
- GET /v1/operator/quality?period=YYYY-MM: every active bank's score, lowest first (operator
  key, audited).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN
from typing import Annotated

from fastapi import APIRouter, Path, Query

from settlement_api.deps import OperatorDep, ReaderDep, ScoringDep
from settlement_api.kit.months import MONTH_PATTERN, Month, month_problem, parse_month
from settlement_api.ledger.repository import bank_exists
from settlement_api.quality.reads import league, quality
from settlement_api.quality.schemas import ComponentOut, LeagueOut, LeagueRowOut, QualityOut
from settlement_api.quality.service import POINTS, SHARE, QualityScore
from settlement_api.quality.weights import QualityWeights
from settlement_api.security import bank_not_found, required_bank
from settlement_core.identifiers import BANK_ID_PATTERN
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1")

PeriodQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="The month, YYYY-MM")]


def _month(period: str) -> Month:
    month = parse_month(period)
    if month is None:
        raise month_problem(period, "#/query/period")
    return month


def _descriptions(weights: QualityWeights) -> dict[str, str]:
    return {
        "timeliness": weights.timeliness.description,
        "rejections": weights.rejections.description,
        "corrections": weights.corrections.description,
        "control_totals": weights.control_totals.description,
        "unknown_countries": weights.unknown_countries.description,
        "silence": weights.silence.description,
    }


def quality_out(bank_id: str, month: Month, result: QualityScore, weights: QualityWeights) -> QualityOut:
    described = _descriptions(weights)
    return QualityOut(
        bank_id=bank_id,
        period=month.label,
        score=str(result.score),
        alert_below=weights.alert_below,
        components=[
            ComponentOut(
                name=c.name,
                description=described[c.name],
                weight=c.weight,
                measure=c.measure,
                score=str(c.score.quantize(SHARE, rounding=ROUND_HALF_EVEN)),
                points=str(c.points.quantize(POINTS, rounding=ROUND_HALF_EVEN)),
            )
            for c in result.components
        ],
    )


@router.get(
    "/banks/{bank_id}/quality",
    response_model=QualityOut,
    responses=problem_responses(401, 404, 422, 503),
    summary="A bank's data-quality score for a month, 0-100, with its components (bank's own key or operator)",
    tags=["banks"],
)
async def get_quality(
    bank_id: Annotated[str, Path(pattern=BANK_ID_PATTERN.pattern, description="The bank")],
    period: PeriodQuery,
    reader: ReaderDep,
    scoring: ScoringDep,
) -> QualityOut:
    bank = required_bank(reader, bank_id)
    month = _month(period)
    if bank != reader.bank_id and not await bank_exists(scoring.sessions, bank):
        raise bank_not_found(bank)
    result = await quality(scoring, bank, month, datetime.now(UTC))
    return quality_out(bank, month, result, scoring.weights)


@router.get(
    "/operator/quality",
    response_model=LeagueOut,
    responses=problem_responses(401, 403, 422, 503),
    summary="Every active bank's data-quality score for a month, lowest first (operator key)",
    tags=["operator"],
)
async def get_league(period: PeriodQuery, operator: OperatorDep, scoring: ScoringDep) -> LeagueOut:
    del operator  # authorisation only (the read is audited by the dependency)
    month = _month(period)
    rows = await league(scoring, month, datetime.now(UTC))
    below = scoring.weights.alert_below
    return LeagueOut(
        period=month.label,
        alert_below=below,
        banks=[
            LeagueRowOut(bank_id=b, name=name, score=str(s.score), below_alert=s.score < below) for b, name, s in rows
        ],
    )
