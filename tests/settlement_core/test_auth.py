"""settlement_core.auth: keys, signatures (pure) and `authenticate` against the real
PostgreSQL and Redis (principal cache, immediate revocation)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
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
    sign,
    verify_signature,
)
from settlement_core.db.models import Bank, Operator
from settlement_core.redis_io import async_client

SECRET = "a3" * 32
BODY = b'{"event_id":"E1","amount":"10.00"}'


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


# ---------------------------------------------------------------- signatures


def test_signature_format_and_value() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    verify_signature(SECRET, header, BODY, now=1_700_000_000)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_signature_inside_window_passes(skew: int) -> None:
    verify_signature(SECRET, sign(SECRET, 1_700_000_000, BODY), BODY, now=1_700_000_000 + skew)


@pytest.mark.parametrize("skew", [-301, 301, 100_000])
def test_signature_outside_window_is_401(skew: int) -> None:
    with pytest.raises(AuthError, match="window") as caught:
        verify_signature(SECRET, sign(SECRET, 1_700_000_000, BODY), BODY, now=1_700_000_000 + skew)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v1=00",
        "t=1700000000",
        "v1=00",
        sign("b4" * 32, 1_700_000_000, BODY),
        sign(SECRET, 1_700_000_000, BODY + b" "),
        sign(SECRET, 1_700_000_001, BODY).replace("t=1700000001", "t=1700000000"),
    ],
)
def test_bad_signatures_are_401(header: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        verify_signature(SECRET, header, BODY, now=1_700_000_000)
    assert caught.value.status == 401


def test_one_matching_v1_among_several_passes_and_hex_case_is_ignored() -> None:
    good = sign(SECRET, 1_700_000_000, BODY).split("v1=")[1].upper()
    verify_signature(SECRET, f"t=1700000000,v1={'0' * 64},v1={good}", BODY, now=1_700_000_000)


def test_custom_window() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    with pytest.raises(AuthError):
        verify_signature(SECRET, header, BODY, now=1_700_000_061, window_s=60)


# ---------------------------------------------------------------- authenticate


@pytest.fixture(scope="module")
def stores(isolated_env: dict[str, str]) -> Iterator[tuple[sessionmaker[Session], str]]:
    engine = create_engine(isolated_env["DATABASE_URL"])
    yield sessionmaker(engine), isolated_env["REDIS_URL"]
    engine.dispose()


def add_bank(sessions: sessionmaker[Session], bank_id: str, *, secret: str | None = None, active: bool = True) -> str:
    key = generate_key()
    with sessions() as session, session.begin():
        session.add(
            Bank(
                bank_id=bank_id,
                name=bank_id,
                bic="CQRCCNBJ",
                key_hash=hash_key(key),
                hmac_secret=secret,
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
    key = add_bank(sessions, "AUTHBANK1", secret=SECRET)
    principal = run_auth(f"Bearer {key}", sessions, redis_url)
    assert principal == Principal("bank", "AUTHBANK1", SECRET, 7, 70, "CQRCCNBJ")


@pytest.mark.integration
def test_operator_key_resolves_to_operator(stores: tuple[sessionmaker[Session], str]) -> None:
    sessions, redis_url = stores
    key = generate_key()
    with sessions() as session, session.begin():
        session.add(Operator(name="ops1", key_hash=hash_key(key), active=True))
    principal = run_auth(f"Bearer {key}", sessions, redis_url)
    assert (principal.kind, principal.id, principal.hmac_secret) == ("operator", "ops1", None)


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
