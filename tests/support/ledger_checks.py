"""The ending every fault test shares: Redis agrees with the ledger and nothing lags."""

from __future__ import annotations

from tests.support.ctl import settlementctl


def assert_reconciled(env: dict[str, str], max_lag: int | None = 0) -> str:
    """`settlementctl reconcile` finds no drift (and, with `max_lag`, no consumer lag above it)."""
    args = ["reconcile"] if max_lag is None else ["reconcile", "--max-lag", str(max_lag)]
    done = settlementctl(env, *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "no drift" in done.stdout, done.stdout[-3000:]
    return done.stdout
