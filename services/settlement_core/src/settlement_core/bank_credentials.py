"""A bank's signature verification material and the rule that picks the scheme it must use.

- a bank with registered Ed25519 public keys must sign every request with one of them
  (RFC 9421, settlement_core.http_signatures); an HMAC signature is not enough for it;
- else a bank with an HMAC secret must send `X-Signature` v2 (v1 only where allowed),
  checked against its current secret and, during a rotation's overlap, its previous one;
- else the bearer key alone authenticates (banks registered without signing).

The material is read from PostgreSQL and the secrets opened in-process; it is kept in this
process's memory for a few seconds (never in Redis, whose append-only file would otherwise
hold the secrets again). A signature that fails against cached material is checked once more
against fresh material (at most once a second per bank), so a new secret or key works from
its first request and a guessing client cannot turn failures into database load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from settlement_core.db.engine import translate_errors as ledger_errors
from settlement_core.db.models import Bank, BankPublicKey
from settlement_core.http_signatures import verify_message_signature
from settlement_core.request_signing import SIGNATURE_WINDOW_S, RequestParts, SignatureRejected, verify_hmac
from settlement_core.secret_box import SecretBox, hmac_context

CACHE_TTL_S = 5.0
REFRESH_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class HmacSecret:
    secret: str
    # None: the current secret; else the previous one, valid until then (the overlap).
    valid_until: datetime | None = None

    def valid_at(self, now: float) -> bool:
        return self.valid_until is None or self.valid_until.timestamp() > now


@dataclass(frozen=True, slots=True)
class BankCredentials:
    hmac_secrets: tuple[HmacSecret, ...] = ()
    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)


def load_credentials(session: Session, bank_id: str, box: Callable[[], SecretBox]) -> BankCredentials:
    """The bank's material from the database; `box` is only called when there is a secret."""
    bank = session.get(Bank, bank_id)
    if bank is None:
        return BankCredentials()
    secrets: list[HmacSecret] = []
    if bank.hmac_secret_enc is not None:
        secrets.append(HmacSecret(box().open(bank.hmac_secret_enc, hmac_context(bank_id))))
    if bank.hmac_previous_enc is not None and bank.hmac_previous_until is not None:
        secrets.append(HmacSecret(box().open(bank.hmac_previous_enc, hmac_context(bank_id)), bank.hmac_previous_until))
    keys = {
        row.key_id: Ed25519PublicKey.from_public_bytes(bytes(row.public_key))
        for row in session.execute(select(BankPublicKey).where(BankPublicKey.bank_id == bank_id)).scalars()
    }
    return BankCredentials(tuple(secrets), keys)


def check_request(
    credentials: BankCredentials,
    request: RequestParts,
    body: bytes,
    now: float,
    *,
    window_s: int = SIGNATURE_WINDOW_S,
    hmac_v1_allowed: bool = False,
) -> None:
    """Raises SignatureRejected unless the request is signed as this bank must sign."""
    if credentials.public_keys:
        verify_message_signature(request, body, credentials.public_keys, now, window_s=window_s)
        return
    valid = [s.secret for s in credentials.hmac_secrets if s.valid_at(now)]
    if valid:
        verify_hmac(
            valid,
            request.headers.get("x-signature"),
            request,
            body,
            now,
            window_s=window_s,
            v1_allowed=hmac_v1_allowed,
        )


class CredentialCache:
    """Per-process cache of banks' verification material (see the module docstring)."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        box: Callable[[], SecretBox],
        *,
        window_s: int = SIGNATURE_WINDOW_S,
        hmac_v1_allowed: bool = False,
        ttl_s: float = CACHE_TTL_S,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._window_s = window_s
        self._v1_allowed = hmac_v1_allowed
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, BankCredentials]] = {}

    def _load(self, bank_id: str) -> BankCredentials:
        with self._sessions() as session:
            return load_credentials(session, bank_id, self._box)

    async def _get(self, bank_id: str, *, refresh: bool) -> BankCredentials:
        now = time.monotonic()
        entry = self._entries.get(bank_id)
        if entry is not None:
            loaded_at, credentials = entry
            age = now - loaded_at
            if age < self._ttl_s and not (refresh and age >= REFRESH_MIN_INTERVAL_S):
                return credentials
        # PostgreSQL unreachable is a 503 (LedgerUnavailable), never a 500: the nemesis
        # (seed 20261207, bandwidth and reset toxics on PostgreSQL) found 34 answers 500 here
        # when a bank's entry expired during the outage.
        with ledger_errors():
            credentials = await asyncio.to_thread(self._load, bank_id)
        self._entries[bank_id] = (time.monotonic(), credentials)
        return credentials

    async def check(self, bank_id: str, request: RequestParts, body: bytes, now: float) -> None:
        credentials = await self._get(bank_id, refresh=False)
        try:
            check_request(credentials, request, body, now, window_s=self._window_s, hmac_v1_allowed=self._v1_allowed)
        except SignatureRejected:
            fresh = await self._get(bank_id, refresh=True)
            if fresh is credentials:
                raise
            check_request(fresh, request, body, now, window_s=self._window_s, hmac_v1_allowed=self._v1_allowed)
