"""The business collector: families, labels, audiences, rolling fields (metrics/collector.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from settlement_api.kit.bucket_store import Seen
from settlement_api.metrics.collector import (
    PUBLIC,
    RESTRICTED,
    BankGauge,
    BuildInfo,
    BusinessCollector,
    BusinessSnapshot,
    DistinctGauge,
    RollingGauge,
    TargetGauges,
    rolling_fields,
)


def _scrape(snapshot: BusinessSnapshot | None, audience: str = PUBLIC) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusinessCollector(snapshot, BuildInfo("1.2.3", "abc"), audience))
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_collector_families_and_labels() -> None:
    snapshot = BusinessSnapshot(
        targets=(
            TargetGauges("offshore", "2020", "USD", 6e11, 12.5, 1.0, 3, (("CNY", 0.0),)),
            TargetGauges("cross_border_rmb", "2020", "CNY", 6e11, 99.0, 0.5, 1, ()),
        ),
        rolling=(RollingGauge("offshore", "USD", "24h", 1.0), RollingGauge("cross_border_rmb", "CNY", "7d", 2.0)),
        banks=(BankGauge("bankA", "cross_border_rmb", 99.0),),
        distinct=DistinctGauge("2020", 150.0, 4),
    )
    found = _scrape(snapshot)
    assert found["settlement_settled_usd"] == [({"target": "offshore", "period": "2020"}, 12.5)]
    assert found["settlement_settled_cny"] == [({"target": "cross_border_rmb", "period": "2020"}, 99.0)]
    assert found["settlement_target_usd"] == [({"target": "offshore", "period": "2020"}, 6e11)]
    assert found["settlement_expected_ratio"][1] == ({"target": "cross_border_rmb", "period": "2020"}, 0.5)
    assert found["settlement_unconverted_amount"] == [
        ({"target": "offshore", "period": "2020", "currency": "CNY"}, 0.0)
    ]
    assert found["settlement_distinct_volume_cny"] == [({"period": "2020"}, 150.0)]
    assert found["settlement_distinct_events_counted"] == [({"period": "2020"}, 4.0)]
    assert found["settlement_rolling_settled_usd"] == [({"target": "offshore", "window": "24h"}, 1.0)]
    # Per-bank series are on /metrics/banks (the restricted audience) only.
    assert not any("bank" in labels for samples in found.values() for labels, _ in samples)
    restricted = _scrape(snapshot, RESTRICTED)
    assert restricted["settlement_bank_settled_cny"] == [({"bank": "bankA", "target": "cross_border_rmb"}, 99.0)]
    assert found["settlement_build_info"] == [({"version": "1.2.3", "commit": "abc"}, 1.0)]
    assert found["settlement_business_metrics_up"] == [({}, 1.0)]


def test_collector_moves_thin_targets_to_the_restricted_audience() -> None:
    snapshot = BusinessSnapshot(
        targets=(
            TargetGauges("offshore", "2020", "USD", 6e11, 12.5, 1.0, 3, ()),
            TargetGauges("cross_border_rmb", "2020", "CNY", 6e11, 99.0, 0.5, 1, ()),
        ),
        rolling=(RollingGauge("cross_border_rmb", "CNY", "7d", 2.0),),
        banks=(),
        distinct=DistinctGauge("2020", 150.0, 4),
        thin=frozenset({"cross_border_rmb", "*"}),
    )
    public, restricted = _scrape(snapshot), _scrape(snapshot, RESTRICTED)
    assert "settlement_settled_cny" not in public
    assert "settlement_distinct_volume_cny" not in public
    assert "settlement_rolling_settled_cny" not in public
    assert public["settlement_settled_usd"] == [({"target": "offshore", "period": "2020"}, 12.5)]
    assert ({"target": "cross_border_rmb", "period": "2020"}, 1.0) in public["settlement_disclosure_suppressed"]
    assert ({"target": "offshore", "period": "2020"}, 0.0) in public["settlement_disclosure_suppressed"]
    assert restricted["settlement_settled_cny"] == [({"target": "cross_border_rmb", "period": "2020"}, 99.0)]
    assert restricted["settlement_distinct_volume_cny"] == [({"period": "2020"}, 150.0)]
    assert "settlement_settled_usd" not in restricted


def test_collector_without_redis() -> None:
    found = _scrape(None)
    assert found["settlement_business_metrics_up"] == [({}, 0.0)]
    assert "settlement_settled_cny" not in found


def test_rolling_fields_cover_trailing_hours_in_utc() -> None:
    seen = Seen(frozenset({("offshore", "USD")}), frozenset())
    now = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    fields = rolling_fields(seen, ["offshore", "factor_market"], now, 24)
    names = fields[("offshore", "USD")]
    assert len(names) == 24
    assert names[0] == "h|offshore|USD|2026113006"
    assert names[-1] == "h|offshore|USD|" + (now - timedelta(hours=23)).strftime("%Y%m%d%H")
    assert ("factor_market", "USD") not in fields
