"""The aggregator's one retry policy: Retryable errors wait with exponential backoff,
anything else propagates at once, a stop request ends the wait."""

from __future__ import annotations

import pytest

from settlement_aggregate.backoff import Backoff, Stopping
from settlement_aggregate.health import Readiness
from settlement_core.errors import KafkaUnavailable, LedgerUnavailable, RedisUnavailable


def _backoff(stopping: bool = False, readiness: Readiness | None = None) -> Backoff:
    return Backoff(0.001, 0.004, readiness or Readiness(), stopping=lambda: stopping, tick_s=0.001)


def test_retryable_errors_are_waited_out_and_mark_not_ready() -> None:
    readiness = Readiness()
    seen: list[tuple[bool, str]] = []
    errors: list[Exception] = [LedgerUnavailable("pg"), RedisUnavailable("redis"), KafkaUnavailable("kafka")]

    def action() -> str:
        seen.append(readiness.get())
        if errors:
            raise errors.pop(0)
        return "done"

    assert _backoff(readiness=readiness).retry("step", action) == "done"
    assert len(seen) == 4
    assert seen[-1] == (False, "step: KafkaUnavailable")


def test_delays_double_up_to_the_cap() -> None:
    step = _backoff().delays()
    assert [step() for _ in range(5)] == [0.001, 0.002, 0.004, 0.004, 0.004]


def test_non_retryable_errors_propagate_at_once() -> None:
    calls = 0

    def action() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        _backoff().retry("step", action)
    assert calls == 1


def test_stop_request_ends_the_wait() -> None:
    def action() -> None:
        raise RedisUnavailable("down")

    with pytest.raises(Stopping):
        _backoff(stopping=True).retry("step", action)
