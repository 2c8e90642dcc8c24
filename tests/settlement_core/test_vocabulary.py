"""vocabulary: one set of ledger statuses and DLQ reasons for the aggregator and the API."""

from __future__ import annotations

import ast
from pathlib import Path

from settlement_aggregate.reversals import Verdict
from settlement_api.ledger.events import DUPLICATE_REASONS
from settlement_core.vocabulary import MOVES_TOTALS, DlqReason, LedgerStatus

SERVICES = Path(__file__).resolve().parents[2] / "services"
AGGREGATE_SRC = SERVICES / "aggregate" / "src" / "settlement_aggregate"


def reasons_the_aggregator_writes() -> set[str]:
    """Every DlqReason member named in the aggregator's source (the planner and decoder
    write reasons only through the enum) plus the reversal verdicts' reasons."""
    named: set[str] = set()
    for path in AGGREGATE_SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "DlqReason":
                named.add(DlqReason[node.attr].value)
    named |= {v.reason.value for v in Verdict if v is not Verdict.APPLY}
    # decode() in core writes the decoder's reasons for the aggregator.
    core_events = SERVICES / "settlement_core" / "src" / "settlement_core" / "events"
    for path in core_events.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "DlqReason":
                named.add(DlqReason[node.attr].value)
    return named


def test_every_reason_the_api_knows_is_one_the_aggregator_can_write() -> None:
    writable = reasons_the_aggregator_writes()
    assert writable >= DUPLICATE_REASONS
    assert {"conflicting_duplicate"} == DUPLICATE_REASONS


def test_every_dlq_reason_is_written_somewhere() -> None:
    assert reasons_the_aggregator_writes() == {r.value for r in DlqReason}


def test_statuses_that_move_the_totals() -> None:
    assert {LedgerStatus.COUNTED, LedgerStatus.REVERSAL_APPLIED, LedgerStatus.REVERSAL_PENDING} == MOVES_TOTALS
    assert LedgerStatus.REVERSED not in MOVES_TOTALS
