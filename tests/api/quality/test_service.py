"""quality.service: the score is the weighted sum of its components, each computed as
docs/statistics.md states, checked against the formulas written out again here."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_api.quality.service import ControlTotalsState, MonthFacts, longest_silence, score
from settlement_api.quality.weights import QualityFileError, load_weights, parse_weights
from settlement_api.timeliness.service import PeriodTimeliness

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "quality.yaml"
WEIGHTS = load_weights(SEEDS)


def facts(**changes: object) -> MonthFacts:
    base: dict[str, object] = {
        "timeliness": PeriodTimeliness(events=100, on_time=90, not_assessed=0, late_by={1: 6, 4: 4}),
        "reversals": 2,
        "unknown_countries": 5,
        "dead_letters": 3,
        "refused": 0,
        "control_totals": ControlTotalsState.BALANCED,
        "longest_silence": 5,
        "working_days": 20,
        "silent_allowance": 3,
    }
    return MonthFacts(**(base | changes))  # type: ignore[arg-type]


def test_a_month_scores_the_weighted_sum_of_its_components() -> None:
    result = score(facts(), WEIGHTS)
    by_name = {c.name: c for c in result.components}
    # timeliness 90/100; rejections 3/103 against 0.05; corrections 2/100 against 0.05;
    # balanced; unknown 5/100 against 0.10; silence (5 - 3) / 20.
    expected = {
        "timeliness": Decimal("0.9"),
        "rejections": 1 - (Decimal(3) / 103) / Decimal("0.05"),
        "corrections": 1 - Decimal("0.02") / Decimal("0.05"),
        "control_totals": Decimal(1),
        "unknown_countries": 1 - Decimal("0.05") / Decimal("0.10"),
        "silence": 1 - Decimal(2) / 20,
    }
    assert {n: c.score for n, c in by_name.items()} == expected
    weights = {
        "timeliness": 30,
        "rejections": 20,
        "corrections": 10,
        "control_totals": 20,
        "unknown_countries": 10,
        "silence": 10,
    }
    assert {n: c.weight for n, c in by_name.items()} == weights
    total = sum((weights[n] * expected[n] for n in weights), Decimal(0))
    assert result.score == total.quantize(Decimal("0.01"))
    assert by_name["rejections"].measure == "0.029126"  # 3/103, 6 decimals half-even
    assert by_name["silence"].measure == "5"


def test_rejections_count_dead_letters_and_refusals_at_the_edge_alike() -> None:
    # 1 dead letter and 1 event refused with a 422, beside 100 counted: 2 / 102, the same as
    # 2 refused alone; 3 dead letters and 7 refused: 10 / 110, beyond the 0.05 tolerance.
    mixed = {c.name: c for c in score(facts(dead_letters=1, refused=1), WEIGHTS).components}["rejections"]
    assert mixed.score == 1 - (Decimal(2) / 102) / Decimal("0.05")
    beyond = {c.name: c for c in score(facts(refused=7), WEIGHTS).components}["rejections"]
    assert (beyond.score, beyond.measure) == (Decimal(0), "0.090909")
    refused_only = {c.name: c for c in score(facts(dead_letters=0, refused=2), WEIGHTS).components}["rejections"]
    assert refused_only.score == 1 - (Decimal(2) / 102) / Decimal("0.05")
    assert refused_only.measure == mixed.measure == "0.019608"


def test_corrections_and_reversals_both_count_toward_the_corrections_rate() -> None:
    # 2 reversals + 1 correction in 100 events (the correction is one of them): 3 % against 5 %.
    component = {c.name: c for c in score(facts(corrections=1), WEIGHTS).components}["corrections"]
    assert (component.measure, component.score) == ("0.030000", 1 - Decimal("0.03") / Decimal("0.05"))
    alone = {c.name: c for c in score(facts(reversals=0, corrections=1), WEIGHTS).components}["corrections"]
    assert alone.measure == "0.010000"


@pytest.mark.parametrize(
    ("state", "points"),
    [
        (ControlTotalsState.BALANCED, 20),
        (ControlTotalsState.PENDING, 20),
        (ControlTotalsState.OPEN_BREAK, 0),
        (ControlTotalsState.MISSING, 0),
    ],
)
def test_control_totals_count_only_when_reconciled_or_not_yet_due(state: ControlTotalsState, points: int) -> None:
    component = {c.name: c for c in score(facts(control_totals=state), WEIGHTS).components}["control_totals"]
    assert (component.points, component.measure) == (Decimal(points), state.value)


def test_rates_at_or_beyond_their_tolerance_score_nothing_and_empty_months_score_full() -> None:
    bad = score(facts(reversals=50, dead_letters=1000, unknown_countries=100, longest_silence=40), WEIGHTS)
    by_name = {c.name: c.score for c in bad.components}
    assert by_name["corrections"] == by_name["rejections"] == by_name["unknown_countries"] == by_name["silence"] == 0
    empty = score(
        facts(
            timeliness=PeriodTimeliness(0, 0, 0, {}),
            reversals=0,
            unknown_countries=0,
            dead_letters=0,
            longest_silence=0,
            working_days=0,
        ),
        WEIGHTS,
    )
    assert empty.score == Decimal("100.00")


@given(st.lists(st.booleans(), max_size=40))
@settings(max_examples=200, deadline=None)
def test_longest_silence_is_the_longest_run_without_arrivals(days: list[bool]) -> None:
    text = "".join("x" if d else "." for d in days)
    assert longest_silence(days) == max((len(run) for run in text.split("x")), default=0)


def test_weights_must_sum_to_100_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    document: dict[str, object] = {"alert_below": 50}
    document |= {name: {"description": "d", "weight": 10} for name in ("timeliness", "control_totals", "silence")}
    document |= {
        name: {"description": "d", "weight": 10, "tolerance": "0.05"}
        for name in ("rejections", "corrections", "unknown_countries")
    }
    with pytest.raises(QualityFileError, match="sum to 60, not 100"):
        parse_weights(document)
    document["timeliness"] = {"description": "d", "weight": 50}
    assert parse_weights(document).timeliness.weight == 50
    with pytest.raises(QualityFileError, match=r"silence\.colour"):
        parse_weights(document | {"silence": {"description": "d", "weight": 10, "colour": "red"}})
    with pytest.raises(QualityFileError, match=r"rejections\.tolerance"):
        parse_weights(document | {"rejections": {"description": "d", "weight": 10, "tolerance": "1.5"}})
    bad = tmp_path / "quality.yaml"
    bad.write_text("timeliness: [", encoding="utf-8")
    with pytest.raises(QualityFileError, match="not valid YAML"):
        load_weights(bad)
