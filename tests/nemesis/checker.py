"""The judge of a campaign, independent of the services' code: it reads only the history the
clients recorded, the ledger rows (plain SQL) and the API's totals (plain HTTP), and checks

- every event answered accepted or duplicate is in the ledger exactly once, with the amount
  sent (lost, doubled, altered);
- no event is in the ledger that was never acknowledged (a retry's acknowledgement counts
  for its first attempt: they carry the same event id);
- the API's totals equal a Decimal oracle over the acknowledged history (drift);
- `settlementctl reconcile` exited 0.

Availability (share of requests answered without 503 or a dropped connection) and recovery
(heal to the first fully acknowledged request started after it) are computed per fault
class. Pure: tests/nemesis/test_checker.py judges synthetic histories."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from tests.nemesis.history import ACKNOWLEDGED, History, Request, Sent


@dataclass(frozen=True, slots=True)
class LedgerRow:
    bank: str
    event_id: str
    amount: Decimal
    reverses: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    acknowledged: int
    in_ledger: int
    lost: tuple[tuple[str, str], ...]
    doubled: tuple[tuple[str, str], ...]
    unacknowledged_counted: tuple[tuple[str, str], ...]
    altered: tuple[tuple[str, str], ...]
    drift: dict[str, tuple[Decimal, Decimal]]  # category -> (oracle, api)
    reconcile_rc: int
    oracle: dict[str, Decimal] = field(default_factory=dict)
    server_errors: int = 0  # answers (or items) 500 and the like: a fault must be a 503
    rejected: int = 0  # valid events answered 4xx

    @property
    def ok(self) -> bool:
        return (
            not self.lost
            and not self.doubled
            and not self.unacknowledged_counted
            and not self.altered
            and not self.drift
            and self.reconcile_rc == 0
            and self.acknowledged > 0
            and self.server_errors == 0
            and self.rejected == 0
        )

    def problems(self) -> list[str]:
        out = []
        for name in ("lost", "doubled", "unacknowledged_counted", "altered"):
            keys = getattr(self, name)
            if keys:
                out.append(f"{len(keys)} {name}: {sorted(keys)[:10]}")
        for category, (want, got) in sorted(self.drift.items()):
            out.append(f"drift {category}: oracle {want} api {got}")
        if self.reconcile_rc != 0:
            out.append(f"settlementctl reconcile exited {self.reconcile_rc}")
        if self.server_errors:
            out.append(f"{self.server_errors} answers were a 5xx other than 503 (a fault must answer 503)")
        if self.rejected:
            out.append(f"{self.rejected} valid events were rejected")
        if self.acknowledged == 0:
            out.append("nothing was acknowledged: the campaign proved nothing")
        return out


def acknowledged(history: History) -> dict[tuple[str, str], Sent]:
    """(bank, event id) -> what was sent, for every event some attempt got acknowledged."""
    out: dict[tuple[str, str], Sent] = {}
    for request in history.requests:
        for sent, outcome in zip(request.events, request.outcomes, strict=True):
            if outcome in ACKNOWLEDGED:
                out.setdefault((request.bank, sent.event_id), sent)
    return out


def oracle(acked: dict[tuple[str, str], Sent], categories: tuple[str, ...]) -> dict[str, Decimal]:
    """Settled per category: acknowledged originals, less acknowledged reversals of
    acknowledged originals (a reversal negates its original's amount in its category)."""
    totals = {c: Decimal(0) for c in categories}
    for (bank, _), sent in acked.items():
        if sent.reverses is None:
            totals[sent.category] += sent.amount
            continue
        original = acked.get((bank, sent.reverses))
        if original is not None and original.reverses is None and original.amount == sent.amount:
            totals[original.category] -= original.amount
    return totals


def judge(
    history: History,
    ledger: list[LedgerRow],
    api_totals: dict[str, Decimal],
    reconcile_rc: int,
    categories: tuple[str, ...],
) -> Verdict:
    acked = acknowledged(history)
    counts = Counter((row.bank, row.event_id) for row in ledger)
    in_ledger = {(row.bank, row.event_id): row for row in ledger}
    want = oracle(acked, categories)
    drift = {
        c: (want[c], api_totals.get(c, Decimal(0))) for c in categories if want[c] != api_totals.get(c, Decimal(0))
    }
    return Verdict(
        acknowledged=len(acked),
        in_ledger=len(in_ledger),
        lost=tuple(sorted(set(acked) - set(in_ledger))),
        doubled=tuple(sorted(k for k, n in counts.items() if n > 1)),
        unacknowledged_counted=tuple(sorted(set(in_ledger) - set(acked))),
        altered=tuple(sorted(k for k, row in in_ledger.items() if k in acked and acked[k].amount != row.amount)),
        drift=drift,
        reconcile_rc=reconcile_rc,
        oracle=want,
        server_errors=sum(1 for r in history.requests for o in r.outcomes if o == "server_error"),
        rejected=sum(1 for r in history.requests for o in r.outcomes if o == "rejected"),
    )


# ---------------------------------------------------------------- availability and recovery
@dataclass(frozen=True, slots=True)
class ClassStats:
    fault_class: str
    faults: int
    requests: int  # started while a fault of this class was active
    unavailable: int
    recovery_median_s: float
    recovery_max_s: float

    @property
    def availability(self) -> float:
        return 1.0 if self.requests == 0 else 1 - self.unavailable / self.requests


def _fully_acknowledged(request: Request) -> bool:
    return bool(request.outcomes) and all(o in ACKNOWLEDGED for o in request.outcomes)


def recovery_s(history: History, healed: float) -> float:
    """Seconds from `healed` to the end of the first fully acknowledged request started at
    or after it (inf when none came)."""
    ends = [r.finished for r in history.requests if r.started >= healed and _fully_acknowledged(r)]
    return min(ends) - healed if ends else float("inf")


def by_class(history: History) -> list[ClassStats]:
    out = []
    classes = sorted({f.fault_class for f in history.faults})
    for fault_class in classes:
        spans = [f for f in history.faults if f.fault_class == fault_class]
        during = [r for r in history.requests if any(f.started <= r.started < f.healed for f in spans)]
        recoveries = [recovery_s(history, f.healed) for f in spans]
        finite = [r for r in recoveries if r != float("inf")] or [float("inf")]
        out.append(
            ClassStats(
                fault_class,
                len(spans),
                len(during),
                sum(1 for r in during if r.unavailable),
                statistics.median(finite),
                max(recoveries),
            )
        )
    return out


def overall_availability(history: History) -> float:
    if not history.requests:
        return 1.0
    return 1 - sum(1 for r in history.requests if r.unavailable) / len(history.requests)
