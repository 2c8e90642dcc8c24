"""API keys, shared by ingest (writes) and api (reads).

Keys are random bearer tokens issued by `settlementctl`; PostgreSQL stores only their SHA-256
(`banks.key_hash`, `operators.key_hash`), so a database dump cannot be replayed as keys.

Looking a key up in PostgreSQL on every request would put a query on the hot path, so the
resolved principal is cached in Redis under its key hash for a short TTL. Revocation must take
effect at once: `settlementctl key|operator revoke|rotate` overwrites the cache entry with a revocation
marker (`forget_key`). Positive entries are written with SET NX, so a request that read the
database just before the revocation cannot put the revoked principal back over the marker.

The cache holds only what identifies and limits a principal (kind, id, rates, BIC): never a
secret. Request signatures (HMAC v2, RFC 9421 Ed25519) are checked by ingest against the
bank's verification material, loaded by settlement_core.bank_credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

import redis
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.orm import Session

from settlement_core.db.engine import translate_errors as ledger_errors
from settlement_core.db.models import Bank, Operator
from settlement_core.problems import Problem

logger = logging.getLogger(__name__)

KEY_PREFIX = "stk_"
CACHE_PREFIX = "auth:key:"
CACHE_TTL_S = 30
# Longer than any plausible gap between a database read and the cache write that follows it.
REVOKED_TTL_S = 600
_REVOKED = "revoked"
_UNKNOWN = "unknown"
# Unknown keys are cached briefly too, so guessing keys cannot turn into a database load test.
UNKNOWN_TTL_S = 5


class AuthError(Exception):
    """401 (no or bad credentials) or 403 (valid credentials, not allowed)."""

    def __init__(self, status: Literal[401, 403], detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def auth_problem(exc: AuthError, realm: str, unauthorized_detail: str | None = None) -> Problem:
    """The RFC 9457 answer to an AuthError, the same for every app: 401 with a Bearer
    challenge for `realm`, or 403. `unauthorized_detail` replaces the 401 detail for apps
    that do not say which of missing / malformed / unknown / revoked it was."""
    if exc.status == 403:
        return Problem(403, "Forbidden", exc.detail or "The key may not be used here.", "forbidden")
    return Problem(
        401,
        "Unauthorized",
        unauthorized_detail or exc.detail,
        "unauthorized",
        headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
    )


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["bank", "operator"]
    id: str
    rate_per_second: int
    burst: int
    # The bank's BIC lets ISO 20022 intake tell which side of a transfer the bank is on.
    bic: str | None = None


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def generate_hmac_secret() -> str:
    return secrets.token_hex(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def cache_key(key_hash: str) -> str:
    return CACHE_PREFIX + key_hash


def forget_key(client: redis.Redis, key_hash: str) -> None:
    """Called after a key is revoked or rotated away: answers 401 from the next request on."""
    client.set(cache_key(key_hash), _REVOKED, ex=REVOKED_TTL_S)


def bearer_token(authorization_header: str | None) -> str:
    if not authorization_header:
        raise AuthError(401, "Missing Authorization header; send 'Authorization: Bearer <key>'.")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "Authorization must use the Bearer scheme: 'Bearer <key>'.")
    return token


def _lookup(session_factory: Callable[[], Session], key_hash: str) -> Principal | None:
    with session_factory() as session:
        bank = session.execute(
            select(Bank).where(Bank.key_hash == key_hash, Bank.active.is_(True))
        ).scalar_one_or_none()
        if bank is not None:
            return Principal("bank", bank.bank_id, bank.rate_per_second, bank.burst, bank.bic)
        operator = session.execute(
            select(Operator).where(Operator.key_hash == key_hash, Operator.active.is_(True))
        ).scalar_one_or_none()
        if operator is not None:
            return Principal("operator", operator.name, 0, 0, None)
    return None


def _decode(cached: str) -> Principal:
    data = json.loads(cached)
    return Principal(data["kind"], data["id"], int(data["rate_per_second"]), int(data["burst"]), data.get("bic"))


async def authenticate(
    authorization_header: str | None,
    redis: aioredis.Redis,
    session_factory: Callable[[], Session],
    *,
    cache_ttl_s: int = CACHE_TTL_S,
) -> Principal:
    """Resolve a bearer key to its principal; raises AuthError(401) for unknown/revoked keys."""
    key_hash = hash_key(bearer_token(authorization_header))
    slot = cache_key(key_hash)
    cached = await redis.get(slot)
    if cached in (_REVOKED, _UNKNOWN):
        raise AuthError(401, "The API key is unknown or has been revoked.")
    if cached:
        return _decode(str(cached))
    # Synchronous SQLAlchemy: keep the event loop free while PostgreSQL answers.
    with ledger_errors():  # PostgreSQL unreachable: a 503, never a 500 (as for the credentials)
        principal = await asyncio.to_thread(_lookup, session_factory, key_hash)
    if principal is None:
        await redis.set(slot, _UNKNOWN, ex=UNKNOWN_TTL_S, nx=True)
        raise AuthError(401, "The API key is unknown or has been revoked.")
    await redis.set(slot, json.dumps(asdict(principal)), ex=cache_ttl_s, nx=True)
    return principal
