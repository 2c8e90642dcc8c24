"""Grafana dashboards as code (grafana-foundation-sdk). `make dashboards` rewrites
deploy/grafana/dashboards/*.json; tests/deploy/test_dashboards.py fails on any diff.

Panel queries use raw metrics (names: docs/architecture.md) rather than recording rules, so
a dashboard works against a Prometheus that has not loaded settlement.rules.yml yet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)

OUT = Path(__file__).resolve().parent / "dashboards"
# Fixed uid, provisioned by provisioning/datasources/prometheus.yml.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="settlement-prometheus")
TARGET = 'target=~"$target"'


def query(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prom.Dataquery:
    q = prom.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q.range()


def thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in steps])


def legend() -> VizLegendOptions:
    return (
        VizLegendOptions()
        .show_legend(True)
        .display_mode(LegendDisplayMode.TABLE)
        .placement(LegendPlacement.BOTTOM)
        .calcs(["lastNotNull"])
    )


def last_value() -> ReduceDataOptions:
    return ReduceDataOptions().calcs(["lastNotNull"]).values(False)


PROGRESS = (
    f"max by (target) (settlement_settled_cny{{{TARGET}}}) "
    f"/ max by (target) (settlement_target_cny{{{TARGET}}}) "
    f"or max by (target) (settlement_settled_usd{{{TARGET}}}) "
    f"/ max by (target) (settlement_target_usd{{{TARGET}}})"
)


def settlement_targets() -> Dashboard:
    target_var = (
        QueryVariable("target")
        .label("目标 Target")
        .datasource(DATASOURCE)
        .query("label_values(settlement_expected_ratio, target)")
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )
    return (
        Dashboard("结算目标进度 · Settlement targets")
        .uid("settlement-targets")
        .tags(["settlement"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("Asia/Shanghai")
        .description("Progress toward the settlement targets of the Chongqing plan (latest target period).")
        .with_variable(target_var)
        .with_row(Row("进度 · Progress"))
        .with_panel(
            bargauge.Panel()
            .title("目标完成率 · Progress ratio of the six targets")
            .description(
                "Settled in the window / target amount. Thresholds: red below 50%, "
                "amber below 100%, green once achieved."
            )
            .with_target(query(PROGRESS, "{{target}}", instant=True))
            .unit("percentunit")
            .min(0)
            .max(1)
            .decimals(2)
            .thresholds(thresholds((None, "red"), (0.5, "orange"), (1, "green")))
            .display_mode(BarGaugeDisplayMode.GRADIENT)
            .orientation(VizOrientation.HORIZONTAL)
            .show_unfilled(True)
            .reduce_options(last_value())
            .height(9)
            .span(12)
        )
        .with_panel(
            timeseries.Panel()
            .title("进度与线性进度 · Progress vs linear expectation")
            .description(
                "Progress ratio against the elapsed fraction of the window; pace = "
                "progress / expected, an alert fires below 0.9 within the window."
            )
            .with_target(query(PROGRESS, "{{target}} progress"))
            .with_target(
                query(
                    f"max by (target) (settlement_expected_ratio{{{TARGET}}})", "{{target}} expected (linear)", ref="B"
                )
            )
            .unit("percentunit")
            .min(0)
            .legend(legend())
            .height(9)
            .span(12)
        )
        .with_row(Row("金额 · Amounts"))
        .with_panel(
            stat.Panel()
            .title("人民币目标已结算 · Settled (亿元)")
            .with_target(
                query(f"max by (target) (settlement_settled_cny{{{TARGET}}}) / 1e8", "{{target}}", instant=True)
            )
            .unit("suffix: 亿元")
            .decimals(2)
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .color_mode(BigValueColorMode.VALUE)
            .height(6)
            .span(9)
        )
        .with_panel(
            stat.Panel()
            .title("离岸金融已结算 · Offshore settled (亿美元)")
            .with_target(
                query(f"max by (target) (settlement_settled_usd{{{TARGET}}}) / 1e8", "{{target}}", instant=True)
            )
            .unit("suffix: 亿美元")
            .decimals(2)
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(6)
            .span(5)
        )
        .with_panel(
            stat.Panel()
            .title("目标 · Targets (亿元 / 亿美元)")
            .with_target(
                query(f"max by (target) (settlement_target_cny{{{TARGET}}}) / 1e8", "{{target}} 亿元", instant=True)
            )
            .with_target(
                query(
                    f"max by (target) (settlement_target_usd{{{TARGET}}}) / 1e8",
                    "{{target}} 亿美元",
                    ref="B",
                    instant=True,
                )
            )
            .decimals(0)
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(6)
            .span(10)
        )
        .with_panel(
            stat.Panel()
            .title("全市结算总量（每笔一次）· Distinct volume, each event once (亿元)")
            .description(
                "Every event once across all targets in the period's window, in CNY. The targets overlap "
                "(one payment may count toward several), so this is never their sum."
            )
            .with_target(query("max by (period) (settlement_distinct_volume_cny) / 1e8", "{{period}}", instant=True))
            .unit("suffix: 亿元")
            .decimals(2)
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(4)
            .span(24)
        )
        .with_panel(
            timeseries.Panel()
            .title("日结算量 · Daily volume per target (trailing 24h, 亿)")
            .description("Settled over the trailing 24 hours by processing time, in 亿 of the target currency.")
            .with_target(
                query(
                    f'max by (target) (settlement_rolling_settled_cny{{window="24h",{TARGET}}}) / 1e8',
                    "{{target}} 亿元",
                )
            )
            .with_target(
                query(
                    f'max by (target) (settlement_rolling_settled_usd{{window="24h",{TARGET}}}) / 1e8',
                    "{{target}} 亿美元",
                    ref="B",
                )
            )
            .legend(legend())
            .height(8)
            .span(12)
        )
        .with_panel(
            bargauge.Panel()
            .title("前十银行 · Top banks (亿元)")
            .description(
                "settlement_bank_settled_cny is exported for the top N banks per target only (TOP_BANKS, default 20), "
                "on the API's token-protected /metrics/banks (Prometheus job api-banks)."
            )
            .with_target(
                query(
                    f"topk(10, max by (bank) (sum by (bank, instance) "
                    f"(settlement_bank_settled_cny{{{TARGET}}}))) / 1e8",
                    "{{bank}}",
                    instant=True,
                )
            )
            .unit("suffix: 亿元")
            .decimals(2)
            .min(0)
            .display_mode(BarGaugeDisplayMode.BASIC)
            .orientation(VizOrientation.HORIZONTAL)
            .reduce_options(last_value())
            .height(8)
            .span(12)
        )
        .with_row(Row("数据质量 · Data quality"))
        .with_panel(
            stat.Panel()
            .title("未折算金额 · Unconverted amounts (no FX rate)")
            .with_target(
                query(
                    f"max by (target, currency) (settlement_unconverted_amount{{{TARGET}}})",
                    "{{target}} {{currency}}",
                    instant=True,
                )
            )
            .thresholds(thresholds((None, "green"), (0.01, "red")))
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(5)
            .span(12)
        )
        .with_panel(
            stat.Panel()
            .title("计入事件数 · Counted events")
            .with_target(query(f"max by (target) (settlement_events_counted{{{TARGET}}})", "{{target}}", instant=True))
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(5)
            .span(12)
        )
        # Collection (issue 25): the market-wide counts come from /metrics, the per-bank scores
        # from the token-protected /metrics/banks (job api-banks): Grafana is an operator tool.
        .with_panel(
            stat.Panel()
            .title("沉默与低质量银行 · Silent banks and banks below the quality threshold")
            .description(
                "Silent: active banks that sent nothing on the last SILENT_BUSINESS_DAYS business days "
                "(alert BankSilent). Below threshold: active banks whose data-quality score of the last ended "
                "month is below settlement_quality_alert_below (seeds/quality.yaml; alert BankQualityLow)."
            )
            .with_target(query("max(settlement_silent_banks)", "silent", instant=True))
            .with_target(
                query(
                    "max by (period) (settlement_quality_low_banks)",
                    "below threshold {{period}}",
                    ref="B",
                    instant=True,
                )
            )
            .thresholds(thresholds((None, "green"), (1, "orange")))
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .height(6)
            .span(8)
        )
        .with_panel(
            bargauge.Panel()
            .title("最低质量评分 · Lowest data-quality scores (0-100)")
            .description(
                "settlement_bank_quality_score of the last ended month, exported for the lowest TOP_BANKS banks "
                "on /metrics/banks. Components per bank: GET /v1/operator/quality."
            )
            .with_target(
                query("bottomk(10, max by (bank, period) (settlement_bank_quality_score))", "{{bank}}", instant=True)
            )
            .min(0)
            .max(100)
            # One colour: the alert threshold is data (seeds/quality.yaml), not repeated here.
            .thresholds(thresholds((None, "blue")))
            .display_mode(BarGaugeDisplayMode.BASIC)
            .orientation(VizOrientation.HORIZONTAL)
            .reduce_options(last_value())
            .height(6)
            .span(16)
        )
    )


def pipeline_health() -> Dashboard:
    return (
        Dashboard("管道健康 · Pipeline health")
        .uid("settlement-pipeline")
        .tags(["settlement"])
        .refresh("10s")
        .time("now-1h", "now")
        .timezone("browser")
        .with_row(Row("接入 · Ingest"))
        .with_panel(
            timeseries.Panel()
            .title("Ingest rate by outcome (events/s)")
            .with_target(query("sum by (outcome) (rate(ingest_events_total[$__rate_interval]))", "{{outcome}}"))
            .unit("ops")
            .legend(legend())
            .span(8)
        )
        .with_panel(
            timeseries.Panel()
            .title("Ingest errors: 5xx ratio")
            .description("5xx / all requests (alert IngestHigh5xxRatio above 5% for 5m).")
            .with_target(
                query(
                    '(sum(rate(ingest_http_requests_total{status=~"5.."}'
                    "[$__rate_interval])) or vector(0)) / sum(rate("
                    "ingest_http_requests_total[$__rate_interval]))",
                    "5xx ratio",
                )
            )
            .unit("percentunit")
            .legend(legend())
            .span(8)
        )
        .with_panel(
            timeseries.Panel()
            .title("Ingest latency (p50 / p99)")
            .with_target(
                query(
                    "histogram_quantile(0.5, sum by (le) (rate("
                    "ingest_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "request p50",
                )
            )
            .with_target(
                query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    "ingest_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "request p99",
                    ref="B",
                )
            )
            .with_target(
                query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    "ingest_produce_latency_seconds_bucket[$__rate_interval])))",
                    "Kafka produce p99",
                    ref="C",
                )
            )
            .unit("s")
            .legend(legend())
            .span(8)
        )
        .with_row(Row("汇总 · Aggregator"))
        .with_panel(
            timeseries.Panel()
            .title("Consumer lag by partition (events)")
            .with_target(query("sum by (partition) (aggregate_consumer_lag)", "p{{partition}}"))
            .with_target(query("sum(aggregate_consumer_lag)", "total", ref="B"))
            .thresholds(thresholds((None, "green"), (10000, "red")))
            .legend(legend())
            .span(8)
        )
        .with_panel(
            timeseries.Panel()
            .title("Applied events and DLQ (events/s)")
            .with_target(
                query(
                    "sum by (category) (rate(aggregate_events_applied_total[$__rate_interval]))", "applied {{category}}"
                )
            )
            .with_target(
                query("sum by (reason) (rate(aggregate_dlq_total[$__rate_interval]))", "DLQ {{reason}}", ref="B")
            )
            .unit("ops")
            .legend(legend())
            .span(8)
        )
        .with_panel(
            stat.Panel()
            .title("DLQ entries (last hour)")
            .with_target(query("sum(increase(aggregate_dlq_total[1h])) or vector(0)", "DLQ", instant=True))
            .thresholds(thresholds((None, "green"), (1, "orange")))
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .span(4)
        )
        .with_panel(
            stat.Panel()
            .title("Age of last applied event")
            .with_target(query("time() - max(aggregate_last_applied_timestamp_seconds)", "age", instant=True))
            .unit("s")
            .thresholds(thresholds((None, "green"), (60, "orange"), (300, "red")))
            .reduce_options(last_value())
            .graph_mode(BigValueGraphMode.NONE)
            .span(4)
        )
        .with_panel(
            timeseries.Panel()
            .title("Batch apply latency (p99)")
            .with_target(
                query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    "aggregate_batch_apply_seconds_bucket[$__rate_interval])))",
                    "apply p99",
                )
            )
            .unit("s")
            .legend(legend())
            .span(12)
        )
        .with_panel(
            timeseries.Panel()
            .title("Readiness (aggregator ready, ingest Kafka up)")
            .with_target(query("max(aggregate_ready)", "aggregate ready"))
            .with_target(query("max(ingest_kafka_up)", "ingest Kafka up", ref="B"))
            .min(0)
            .max(1)
            .legend(legend())
            .span(12)
        )
        .with_row(Row("API 与采集 · API and scraping"))
        .with_panel(
            timeseries.Panel()
            .title("API requests by route (req/s) and p99 latency")
            .with_target(query("sum by (route) (rate(api_http_requests_total[$__rate_interval]))", "{{route}}"))
            .with_target(
                query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    "api_http_request_duration_seconds_bucket[$__rate_interval])))",
                    "p99 (s)",
                    ref="B",
                )
            )
            .legend(legend())
            .span(8)
        )
        .with_panel(
            table.Panel()
            .title("Scrape health (up)")
            .with_target(query('up{job=~"ingest|api|aggregate|prometheus"}', "{{job}}", instant=True))
            .with_target(
                query('scrape_duration_seconds{job=~"ingest|api|aggregate"}', "{{job}} scrape s", ref="B", instant=True)
            )
            .thresholds(thresholds((None, "red"), (1, "green")))
            .span(8)
        )
        .with_panel(
            table.Panel()
            .title("Firing alerts")
            .with_target(query('ALERTS{alertstate="firing"}', "{{alertname}}", instant=True))
            .span(8)
        )
    )


def numbered(board: Dashboard) -> object:
    """The SDK leaves panel ids unset (rows get 0); Grafana wants them unique and stable."""
    model = board.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return model


def render() -> dict[str, str]:
    """File name -> JSON text, deterministic (sorted keys) so the diff test is exact."""
    boards = {"settlement-targets.json": settlement_targets(), "pipeline-health.json": pipeline_health()}
    return {
        name: json.dumps(numbered(board), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, board in boards.items()
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
