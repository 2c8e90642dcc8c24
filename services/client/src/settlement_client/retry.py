"""When to retry and how long to wait: pure functions, so the policy is unit-tested without I/O.

Retrying is always safe with these services: the idempotency key is (bank, event_id) and the
client resends the exact same bytes, so a request that did reach Kafka answers "duplicate".
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, overridden upwards by the server's Retry-After.

    `max_elapsed_s` bounds the whole retry sequence of one request: a Kafka outage longer than
    that surfaces as `ServiceUnavailable` instead of a client that waits forever.
    """

    max_attempts: int = 50
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_elapsed_s: float = 300.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        backoff = (rng or random).uniform(0, ceiling)
        if retry_after_s is not None:
            # The server knows when capacity returns; never come back earlier than it asked.
            return max(min(retry_after_s, self.max_delay_s), backoff)
        return backoff

    def allows(self, attempt: int, elapsed_s: float, next_delay_s: float) -> bool:
        """Whether another attempt fits in the attempt and time budgets."""
        return attempt < self.max_attempts and elapsed_s + next_delay_s <= self.max_elapsed_s


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
