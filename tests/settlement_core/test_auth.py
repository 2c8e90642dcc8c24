"""settlement_core.auth: keys (pure) and `authenticate` against the real PostgreSQL and
Redis (principal cache, immediate revocation, no secret in the cache). Signatures:
test_request_signing.py, test_http_signatures.py."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_core.auth import (
    AuthError,
    Principal,
    authenticate,
    bearer_token,
    cache_key,
    forget_key,
    generate_key,
    hash_key,
)
from settlement_core.db.models import Bank, Operator
from settlement_core.redis_io import async_client
from settlement_core.secret_box import SecretBox, hmac_context

# ---------------------------------------------------------------- keys


def test_generated_keys_are_prefixed_random_and_long() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("stk_") and len(k) >= 40 for k in keys)


def test_hash_key_is_sha256_hex() -> None:
    assert hash_key("stk_abc") == hashlib.sha256(b"stk_abc").hexdigest()
    assert len(hash_key(generate_key())) == 64


@pytest.mark.parametrize(("header", "token"), [("Bearer stk_x", "stk_x"), ("bearer   stk_y  ", "stk_y")])
def test_bearer_token_parses(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Token stk_x", "stk_x"])
def test_bearer_token_rejects(header: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_token(header)
    assert caught.value.status == 401


# ---------------------------------------------------------------- authenticate


@pytest.fixture(scope="module")
def stores(isolated_env: dict[str, str]) -> Iterator[tuple[sessionmaker[Session], str]]:
    engine = create_engine(isolated_env["DATABASE_URL"])
    yield sessionmaker(engine), isolated_env["REDIS_URL"]
    engine.dispose()


def add_bank(sessions: sessionmaker[Session], bank_id: str, *, sealed: bytes | None = None, active: bool = True) -> str:
    key = generate_key()
    with sessions() as session, session.begin():
        session.add(
            Bank(
                bank_id=bank_id,
                name=bank_id,
                bic="CQRCCNBJ",
                key_hash=hash_key(key),
                hmac_secret_enc=sealed,
                active=active,
                rate_per_second=7,
                burst=70,
            )
        )
    return key


def run_auth(header: str | None, sessions: sessionmaker[Session], redis_url: str) -> Principal:
    async def go() -> Principal:
        client = async_client(redis_url)
        try:
            return await authenticate(header, client, sessions)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.integration
def test_bank_key_resolves_to_its_principal(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    sealed = SecretBox("k" * 32).seal("a3" * 32, hmac_context("AUTHBANK1"))
    key = add_bank(sessions, "AUTHBANK1", sealed=sealed)
    principal = run_auth(f"Bearer {key}", sessions, redis_url)
    assert principal == Principal("bank", "AUTHBANK1", 7, 70, "CQRCCNBJ")
    # The cache holds who the key is and its limits, never a secret (audit M5).
    cached = redis.Redis.from_url(redis_url, decode_responses=True).get(cache_key(hash_key(key)))
    assert cached is not None
    assert set(json.loads(cached)) == {"kind", "id", "rate_per_second", "burst", "bic"}
    assert "a3a3" not in cached


@pytest.mark.integration
def test_operator_key_resolves_to_operator(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = generate_key()
    with sessions() as session, session.begin():
        session.add(Operator(name="ops1", key_hash=hash_key(key), active=True))
    principal = run_auth(f"Bearer {key}", sessions, redis_url)
    assert (principal.kind, principal.id) == ("operator", "ops1")


@pytest.mark.integration
@pytest.mark.parametrize("header", [None, "Bearer stk_unknown-key"])
def test_missing_or_unknown_key_is_401(stores: tuple[sessionmaker[Session], str], header: str | None) -> None:
    sessions, redis_url = stores
    with pytest.raises(AuthError) as caught:
        run_auth(header, sessions, redis_url)
    assert caught.value.status == 401


@pytest.mark.integration
def test_inactive_bank_is_401(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = add_bank(sessions, "AUTHINACTIVE", active=False)
    with pytest.raises(AuthError):
        run_auth(f"Bearer {key}", sessions, redis_url)


@pytest.mark.integration
def test_principal_is_cached_and_forget_key_revokes_at_once(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = add_bank(sessions, "AUTHCACHE")
    run_auth(f"Bearer {key}", sessions, redis_url)
    plain = redis.Redis.from_url(redis_url, decode_responses=True)
    ttl = plain.ttl(cache_key(hash_key(key)))
    assert 0 < ttl <= 30
    # Served from the cache: the database row is gone but the key still resolves.
    with sessions() as session, session.begin():
        session.delete(session.get(Bank, "AUTHCACHE"))
    assert run_auth(f"Bearer {key}", sessions, redis_url).id == "AUTHCACHE"
    forget_key(plain, hash_key(key))
    with pytest.raises(AuthError):
        run_auth(f"Bearer {key}", sessions, redis_url)


@pytest.mark.integration
def test_revocation_marker_wins_over_a_racing_cache_write(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = add_bank(sessions, "AUTHRACE")
    plain = redis.Redis.from_url(redis_url, decode_responses=True)
    # Revoked before a request that read the database earlier gets to write the cache:
    forget_key(plain, hash_key(key))
    with pytest.raises(AuthError):
        run_auth(f"Bearer {key}", sessions, redis_url)
    assert plain.get(cache_key(hash_key(key))) == "revoked"


@pytest.mark.integration
def test_cache_hit_is_fast(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = add_bank(sessions, "AUTHFAST")

    async def go() -> float:
        client = async_client(redis_url)
        try:
            await authenticate(f"Bearer {key}", client, sessions)
            started = time.perf_counter()
            for _ in range(200):
                await authenticate(f"Bearer {key}", client, sessions)
            return (time.perf_counter() - started) / 200
        finally:
            await client.aclose()

    assert asyncio.run(go()) < 0.005


def _unreachable_sessions() -> sessionmaker[Session]:
    """A real PostgreSQL client aimed at a loopback port nobody listens on: every connect
    is refused, as during a partition or while the primary is down."""
    from tests.support.ports import free_port

    engine = create_engine(f"postgresql+psycopg://u:p@127.0.0.1:{free_port()}/db?connect_timeout=2")
    return sessionmaker(engine)


def test_unreachable_postgres_while_loading_signing_material_is_ledger_unavailable() -> None:
    """Nemesis seed 20261207: a bank's credential entry expired during a PostgreSQL outage
    and ingest answered 500 (34 times) instead of 503."""
    from settlement_core.bank_credentials import CredentialCache
    from settlement_core.errors import LedgerUnavailable
    from settlement_core.request_signing import RequestParts

    cache = CredentialCache(_unreachable_sessions(), lambda: SecretBox("k" * 32))
    request = RequestParts("POST", "/v1/events", "", "127.0.0.1", {})
    with pytest.raises(LedgerUnavailable):
        asyncio.run(cache.check("b1", request, b"{}", time.time()))
