"""The report names the seed and the verdict, and the timeline is a PNG, from a history
alone (a campaign's history.jsonl can be re-plotted)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.nemesis import report
from tests.nemesis.checker import LedgerRow, judge
from tests.nemesis.history import FaultSpan, History, Request, Sent

CATS = ("cross_border_rmb", "factor_market")


def test_summary_and_timeline_from_a_history(tmp_path: Path) -> None:
    sent = Sent("b-1", "factor_market", Decimal("5.00"))
    history = History(
        (
            Request("b", "single", 100.0, 100.2, 503, (sent,), ("unavailable",)),
            Request("b", "single", 101.0, 101.1, 202, (sent,), ("accepted",), attempt=2),
        ),
        (FaultSpan("kafka/sigkill", "kafka:any", "kafka-2", 99.0, 100.5),),
        ({"type": "sample", "t": 100.0, "lag": 3},),
        {"seed": 99, "minutes": 1, "t0": 98.0},
    )
    verdict = judge(history, [LedgerRow("b", "b-1", Decimal("5"))], {"factor_market": Decimal("5")}, 0, CATS)
    text = report.summary(history, verdict, ["a note"])
    assert "seed 99" in text
    assert "SEED=99 MINUTES=1" in text
    assert "**PASS**" in text
    assert "| kafka/sigkill | 1 | 1 | 0.0% |" in text
    report.timeline(history, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    failed = judge(history, [], {}, 0, CATS)
    assert "**FAIL**" in report.summary(history, failed, [])
