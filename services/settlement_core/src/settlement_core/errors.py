"""The one retryable-versus-fatal vocabulary shared by every service.

Adapters (kafka_io, redis_io, db.engine) raise a `Retryable` subclass only for connection
errors and errors their client marks as retriable; every other exception is fatal and must
crash the process (the ledger makes restarts safe), never be waited out forever.
"""

from __future__ import annotations


class Retryable(RuntimeError):
    """An outage worth waiting out with backoff; the operation may succeed when repeated."""


class KafkaUnavailable(Retryable):
    """The broker could not be reached or did not acknowledge in time.

    `delivered`, when known, says per record of a batch whether the broker acknowledged it.
    """

    def __init__(self, message: str, delivered: list[bool] | None = None) -> None:
        super().__init__(message)
        self.delivered = delivered


class RedisUnavailable(Retryable):
    """Redis could not be reached, timed out, or is failing over (cluster down, read-only replica)."""


class LedgerUnavailable(Retryable):
    """PostgreSQL could not be reached or dropped the connection (e.g. a primary failover)."""


class ConcurrentLedgerWrite(Retryable):
    """Another writer inserted one of this batch's keys meanwhile; retry the batch."""


class JournalMismatch(RuntimeError):
    """A planned effect is not what the ledger rows it would be stored as reproduce; fatal:
    writing it would make rebuild and reconcile disagree with what Redis was given."""


class LedgerNotReproduced(RuntimeError):
    """A schema migration found ledger rows its new form would not reproduce exactly, and
    stopped (its transaction rolls back, the ledger stays as it was)."""
