"""`settlementctl bank|key|operator` against the real PostgreSQL and Redis."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from settlement_core.auth import cache_key, hash_key
from settlement_core.bank_limits import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
from settlement_core.db.models import Bank, Operator
from tests.support.ctl import printed
from tests.support.ctl import settlementctl as ctl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db(isolated_env: dict[str, str]) -> Iterator[Session]:
    engine = create_engine(isolated_env["DATABASE_URL"])
    with Session(engine) as session:
        yield session
    engine.dispose()


def bank_row(db: Session, bank_id: str) -> Bank:
    db.expire_all()
    row = db.execute(select(Bank).where(Bank.bank_id == bank_id)).scalar_one()
    return row


def test_bank_add_prints_key_once_and_stores_only_its_hash(isolated_env: dict[str, str], db: Session) -> None:
    done = ctl(
        isolated_env,
        "bank",
        "add",
        "cq-bank-1",
        "--name",
        "Chongqing Bank One",
        "--bic",
        "cqrccnbjxxx",
        "--rate-limit",
        "250",
        "--burst",
        "900",
    )
    assert done.returncode == 0, done.stderr
    key = printed(done.stdout, "api_key")
    assert key.startswith("stk_")
    assert "hmac_secret" not in done.stdout
    row = bank_row(db, "cq-bank-1")
    assert row.key_hash == hash_key(key)
    assert (row.name, row.bic, row.rate_per_second, row.burst, row.active, row.hmac_secret) == (
        "Chongqing Bank One",
        "CQRCCNBJXXX",
        250,
        900,
        True,
        None,
    )
    stored = " ".join(str(v) for v in vars(row).values())
    assert key not in stored


def test_bank_add_with_hmac_prints_the_secret_once(isolated_env: dict[str, str], db: Session) -> None:
    done = ctl(isolated_env, "bank", "add", "cq-bank-hmac", "--name", "Signed Bank", "--hmac")
    assert done.returncode == 0, done.stderr
    secret = printed(done.stdout, "hmac_secret")
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert bank_row(db, "cq-bank-hmac").hmac_secret == secret
    row = bank_row(db, "cq-bank-hmac")
    assert (row.rate_per_second, row.burst) == (DEFAULT_RATE_PER_SECOND, DEFAULT_BURST)


@pytest.mark.parametrize(
    "args",
    [
        ["bank", "add", "cq-bank-1", "--name", "again"],
        ["bank", "add", "bad id!", "--name", "x"],
        ["bank", "add", "cq-bank-x", "--name", "x", "--bic", "NOTABIC"],
        ["bank", "add", "cq-bank-y", "--name", "x", "--rate-limit", "0"],
        ["key", "rotate", "no-such-bank"],
        ["key", "revoke", "no-such-bank"],
    ],
)
def test_invalid_commands_fail_without_printing_a_key(isolated_env: dict[str, str], args: list[str]) -> None:
    done = ctl(isolated_env, *args)
    assert done.returncode != 0
    assert "stk_" not in done.stdout


def test_rotate_replaces_the_hash_and_marks_the_old_key_revoked(isolated_env: dict[str, str], db: Session) -> None:
    first = printed(ctl(isolated_env, "bank", "add", "cq-rot", "--name", "R").stdout, "api_key")
    done = ctl(isolated_env, "key", "rotate", "cq-rot")
    assert done.returncode == 0, done.stderr
    second = printed(done.stdout, "api_key")
    assert second != first
    row = bank_row(db, "cq-rot")
    assert row.key_hash == hash_key(second)
    assert row.active is True
    assert row.key_rotated_at is not None
    cache = redis.Redis.from_url(isolated_env["REDIS_URL"], decode_responses=True)
    assert cache.get(cache_key(hash_key(first))) == "revoked"


def test_revoke_clears_the_hash_and_marks_it_revoked(isolated_env: dict[str, str], db: Session) -> None:
    key = printed(ctl(isolated_env, "bank", "add", "cq-rev", "--name", "V").stdout, "api_key")
    done = ctl(isolated_env, "key", "revoke", "cq-rev")
    assert done.returncode == 0, done.stderr
    row = bank_row(db, "cq-rev")
    assert (row.key_hash, row.active) == (None, False)
    cache = redis.Redis.from_url(isolated_env["REDIS_URL"], decode_responses=True)
    assert cache.get(cache_key(hash_key(key))) == "revoked"
    assert 0 < cache.ttl(cache_key(hash_key(key))) <= 600


def test_operator_add_prints_key_once(isolated_env: dict[str, str], db: Session) -> None:
    done = ctl(isolated_env, "operator", "add", "night-shift")
    assert done.returncode == 0, done.stderr
    key = printed(done.stdout, "api_key")
    db.expire_all()
    row = db.get(Operator, "night-shift")
    assert row is not None
    assert row.key_hash == hash_key(key)
    assert ctl(isolated_env, "operator", "add", "night-shift").returncode != 0
