from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from settlement_client.retry import RetryPolicy, parse_retry_after


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-1") is None


def test_backoff_grows_within_the_cap_with_jitter() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # full jitter spreads over the whole range


@pytest.mark.parametrize("retry_after", [0.0, 2.0, 3.5])
def test_never_earlier_than_retry_after(retry_after: float) -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=30.0)
    rng = random.Random(1)
    assert all(policy.delay(1, retry_after, rng) >= retry_after for _ in range(100))


def test_retry_after_is_capped_by_max_delay() -> None:
    assert RetryPolicy(max_delay_s=10.0).delay(1, 3600.0, random.Random(1)) == 10.0


def test_budget_stops_on_attempts_and_elapsed_time() -> None:
    policy = RetryPolicy(max_attempts=3, max_elapsed_s=10.0)
    assert policy.allows(1, 0.0, 1.0)
    assert not policy.allows(3, 0.0, 1.0)  # the third attempt was the last
    assert policy.allows(2, 8.5, 1.5)
    assert not policy.allows(2, 9.0, 1.5)  # the next wait would end past the budget
