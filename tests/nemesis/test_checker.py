"""The checker's judgement on synthetic histories: it must flag a lost event, a double
count, an unacknowledged event counted, an altered amount, drift of the API's totals and a
failing reconcile, and pass a clean history with retries, duplicates and reversals."""

from __future__ import annotations

from decimal import Decimal

from tests.nemesis.checker import LedgerRow, acknowledged, by_class, judge, oracle, overall_availability
from tests.nemesis.history import FaultSpan, History, Request, Sent

CATS = ("cross_border_rmb", "factor_market")
A = Sent("a-1", "cross_border_rmb", Decimal("100.10"))
B = Sent("a-2", "factor_market", Decimal("7.00"))
C = Sent("a-3", "cross_border_rmb", Decimal("0.01"))
REV_A = Sent("a-1:R", "cross_border_rmb", Decimal("100.10"), reverses="a-1")


def req(events: tuple[Sent, ...], outcomes: tuple[str, ...], started: float = 0.0, status: int = 200) -> Request:
    return Request("bank-a", "batch", started, started + 0.1, status, events, outcomes)


def history(*requests: Request, faults: tuple[FaultSpan, ...] = ()) -> History:
    return History(tuple(requests), faults, (), {})


# A's first attempt was cut (no answer), its retry a duplicate; B accepted; C answered 503
# and retried into acceptance; the reversal of A accepted.
CLEAN = history(
    req((A, B), ("error", "error"), 0.0, status=0),
    req((A, B), ("duplicate", "accepted"), 1.0),
    req((C,), ("unavailable",), 2.0, status=503),
    req((C,), ("accepted",), 3.0, status=202),
    req((REV_A,), ("accepted",), 4.0, status=202),
)
LEDGER = [
    LedgerRow("bank-a", "a-1", Decimal("100.1000")),
    LedgerRow("bank-a", "a-2", Decimal("7")),
    LedgerRow("bank-a", "a-3", Decimal("0.01")),
    LedgerRow("bank-a", "a-1:R", Decimal("100.10"), reverses="a-1"),
]
API = {"cross_border_rmb": Decimal("0.01"), "factor_market": Decimal("7.00")}


def test_clean_history_with_retries_duplicates_and_a_reversal_passes() -> None:
    verdict = judge(CLEAN, LEDGER, API, 0, CATS)
    assert verdict.ok, verdict.problems()
    assert verdict.acknowledged == 4
    assert verdict.oracle == API


def test_lost_event_is_flagged() -> None:
    verdict = judge(CLEAN, [r for r in LEDGER if r.event_id != "a-3"], API, 0, CATS)
    assert verdict.lost == (("bank-a", "a-3"),)
    assert not verdict.ok


def test_double_count_is_flagged() -> None:
    verdict = judge(CLEAN, [*LEDGER, LedgerRow("bank-a", "a-2", Decimal("7"))], API, 0, CATS)
    assert verdict.doubled == (("bank-a", "a-2"),)
    assert not verdict.ok


def test_event_never_acknowledged_but_counted_is_flagged() -> None:
    d = Sent("a-4", "factor_market", Decimal("1"))
    h = history(*CLEAN.requests, req((d,), ("unavailable",), 5.0, status=503))
    verdict = judge(h, [*LEDGER, LedgerRow("bank-a", "a-4", Decimal("1"))], API, 0, CATS)
    assert verdict.unacknowledged_counted == (("bank-a", "a-4"),)
    assert not verdict.ok


def test_altered_amount_is_flagged() -> None:
    ledger = [LedgerRow("bank-a", "a-2", Decimal("7.01")) if r.event_id == "a-2" else r for r in LEDGER]
    assert judge(CLEAN, ledger, API, 0, CATS).altered == (("bank-a", "a-2"),)


def test_drift_of_the_api_totals_is_flagged_to_the_cent() -> None:
    verdict = judge(CLEAN, LEDGER, {**API, "factor_market": Decimal("7.01")}, 0, CATS)
    assert verdict.drift == {"factor_market": (Decimal("7.00"), Decimal("7.01"))}
    assert not verdict.ok


def test_a_500_or_a_rejected_valid_event_fails_the_run() -> None:
    with_500 = history(*CLEAN.requests, req((C,), ("server_error",), 5.0, status=500))
    assert judge(with_500, LEDGER, API, 0, CATS).server_errors == 1
    assert not judge(with_500, LEDGER, API, 0, CATS).ok
    refused = history(*CLEAN.requests, req((Sent("a-9", "factor_market", Decimal(1)),), ("rejected",), 6.0, 422))
    assert judge(refused, LEDGER, API, 0, CATS).rejected == 1
    assert not judge(refused, LEDGER, API, 0, CATS).ok


def test_failing_reconcile_or_an_empty_history_fails() -> None:
    assert not judge(CLEAN, LEDGER, API, 1, CATS).ok
    assert not judge(history(), [], {c: Decimal(0) for c in CATS}, 0, CATS).ok


def test_oracle_ignores_an_unacknowledged_reversal_and_a_reversal_of_an_unknown_original() -> None:
    h = history(
        req((A,), ("accepted",)),
        req((REV_A,), ("unavailable",), status=503),
        req((Sent("x:R", "factor_market", Decimal("5"), reverses="x"),), ("accepted",)),
    )
    assert oracle(acknowledged(h), CATS) == {"cross_border_rmb": Decimal("100.10"), "factor_market": Decimal(0)}


def test_availability_and_recovery_per_fault_class() -> None:
    fault = FaultSpan("kafka/sigkill", "kafka:any", "kafka-2", started=1.5, healed=3.5)
    h = history(*CLEAN.requests, faults=(fault,))
    [stats] = by_class(h)
    assert (stats.fault_class, stats.faults, stats.requests, stats.unavailable) == ("kafka/sigkill", 1, 2, 1)
    assert stats.availability == 0.5
    # The first fully acknowledged request after the heal (3.5) started at 4.0, ended 4.1.
    assert abs(stats.recovery_max_s - 0.6) < 1e-9
    assert overall_availability(h) == 3 / 5
