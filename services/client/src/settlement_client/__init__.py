"""Client library for banks reporting settlement events to the settlement volume tracker.

    from settlement_client import Client

    with Client("https://ingest.example", api_key, hmac_secret=None) as client:
        client.submit({"event_id": "E1", "category": "offshore", "amount": "10.00", ...})

See `Client` and docs/ingest-contract.md. Depends on httpx only.
"""

from settlement_client.client import Client
from settlement_client.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    Problem,
    ProblemError,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    SettlementError,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
)
from settlement_client.results import BatchResult, EventStatus, ItemResult, SkippedEntry, Submitted
from settlement_client.retry import RetryPolicy
from settlement_client.rules import EventRules

__all__ = [
    "BadRequest",
    "BatchResult",
    "Client",
    "Conflict",
    "EventRules",
    "EventStatus",
    "FieldError",
    "Forbidden",
    "InvalidRequest",
    "ItemResult",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ProblemError",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "SettlementError",
    "SkippedEntry",
    "Submitted",
    "TransportError",
    "Unauthorized",
    "UnsupportedMediaType",
]
