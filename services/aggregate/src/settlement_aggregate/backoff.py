"""The one retry policy of the aggregator: exponential backoff on `Retryable` errors only.

Every wait for a dependency (start-up connect, ledger, Redis, Kafka) goes through
`Backoff.retry`, so they all pause the same way, flip /readyz the same way and honour
SIGTERM the same way. Anything that is not `Retryable` propagates: a bug or a broken
contract crashes the process, and the supervisor restarts it (the ledger makes that safe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from settlement_aggregate.health import Readiness
from settlement_core.errors import Retryable

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Stopping(Exception):
    """SIGTERM arrived while waiting out an outage: leave without committing."""


class Backoff:
    def __init__(
        self, initial_s: float, max_s: float, readiness: Readiness, stopping: Callable[[], bool], tick_s: float = 0.1
    ) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._readiness = readiness
        self._stopping = stopping
        self._tick_s = tick_s

    def delays(self) -> Callable[[], float]:
        """A fresh sequence initial, 2x, 4x, ... capped at max (one per outage)."""
        state = {"next": self._initial_s}

        def step() -> float:
            delay = state["next"]
            state["next"] = min(delay * 2, self._max_s)
            return delay

        return step

    def retry(self, what: str, action: Callable[[], T]) -> T:
        """Run `action` until it succeeds; `Retryable` errors mark the process not ready and
        wait, raising `Stopping` if a stop is requested meanwhile."""
        next_delay = self.delays()
        while True:
            try:
                return action()
            except Retryable as exc:
                delay = next_delay()
                self._readiness.set(False, f"{what}: {type(exc).__name__}")
                logger.warning(
                    "retryable failure, backing off", extra={"step": what, "error": str(exc)[:300], "delay_s": delay}
                )
                self.sleep(delay, exc)

    def sleep(self, delay: float, cause: BaseException | None = None) -> None:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if self._stopping():
                raise Stopping from cause
            time.sleep(min(self._tick_s, delay))
