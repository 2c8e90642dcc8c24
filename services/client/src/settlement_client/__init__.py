"""Client library for banks reporting settlement events to the settlement volume tracker.

    from settlement_client import Client

    with Client("https://ingest.example", api_key, hmac_secret=None) as client:
        client.submit({"event_id": "E1", "category": "offshore", "amount": "10.00", ...})

Banks registered with an Ed25519 public key sign with
`Client(url, api_key, signer=Ed25519Signer.from_file(Path("bank.pem"), "my-key-1"))`.

See `Client` and docs/ingest-contract.md. Depends on httpx and cryptography (Ed25519).
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
from settlement_client.results import BatchResult, ControlTotals, EventStatus, ItemResult, SkippedEntry, Submitted
from settlement_client.retry import RetryPolicy
from settlement_client.rules import EventRules
from settlement_client.signing import Ed25519Signer, HmacSigner, Signer

__all__ = [
    "BadRequest",
    "BatchResult",
    "Client",
    "Conflict",
    "ControlTotals",
    "Ed25519Signer",
    "EventRules",
    "EventStatus",
    "FieldError",
    "Forbidden",
    "HmacSigner",
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
    "Signer",
    "SkippedEntry",
    "Submitted",
    "TransportError",
    "Unauthorized",
    "UnsupportedMediaType",
]
