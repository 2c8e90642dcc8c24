"""`settlementctl bank|key|operator` against the real PostgreSQL and Redis."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from settlement_core.auth import cache_key, hash_key
from settlement_core.bank_limits import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
from settlement_core.db.models import Bank, Operator
from settlement_core.secret_box import SecretBox, hmac_context
from settlement_ctl.banks import parse_duration, read_public_key
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
    assert (row.name, row.bic, row.rate_per_second, row.burst, row.active, row.hmac_secret_enc) == (
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
    sealed = bank_row(db, "cq-bank-hmac").hmac_secret_enc
    assert sealed is not None
    assert secret.encode() not in sealed
    box = SecretBox.from_env(isolated_env)
    assert box.open(sealed, hmac_context("cq-bank-hmac")) == secret
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


# -- credentials with a lifecycle (issue 20 part 5) --------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("0s", 0), ("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "24", "1h30m", "-1h", "1w", "h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_read_public_key_accepts_pem_file_pem_text_and_raw_base64(tmp_path: Path) -> None:
    public = Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "k.pem").write_bytes(pem)
    assert read_public_key(str(tmp_path / "k.pem")) == raw
    assert read_public_key(pem.decode()) == raw
    assert read_public_key(base64.b64encode(raw).decode()) == raw
    with pytest.raises(ValueError, match="32 bytes"):
        read_public_key(base64.b64encode(raw[:31]).decode())
    with pytest.raises(ValueError, match="not a PEM"):
        read_public_key("not a key")


def test_hmac_commands_refuse_to_run_without_the_encryption_key(isolated_env: dict[str, str], db: Session) -> None:
    env = {**isolated_env, "SECRETS_ENCRYPTION_KEY": ""}
    done = ctl(env, "bank", "add", "cq-nokey", "--name", "N", "--hmac")
    assert done.returncode != 0
    assert "SECRETS_ENCRYPTION_KEY" in done.stderr
    assert "hmac_secret" not in done.stdout
    db.expire_all()
    assert db.get(Bank, "cq-nokey") is None


def test_public_key_add_rejects_bad_keys_and_unknown_banks(isolated_env: dict[str, str], tmp_path: Path) -> None:
    rsa_like = tmp_path / "bad.pem"
    rsa_like.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    assert (
        ctl(
            isolated_env, "bank", "key", "add-public", "cq-bank-1", "--key-id", "k1", "--public-key", str(rsa_like)
        ).returncode
        != 0
    )
    good = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    assert (
        ctl(isolated_env, "bank", "key", "add-public", "no-such", "--key-id", "k1", "--public-key", good).returncode
        != 0
    )
    assert (
        ctl(
            isolated_env, "bank", "key", "add-public", "cq-bank-1", "--key-id", "bad id", "--public-key", good
        ).returncode
        != 0
    )
    assert (
        ctl(isolated_env, "bank", "key", "add-public", "cq-bank-1", "--key-id", "k1", "--public-key", good).returncode
        == 0
    )
    again = ctl(isolated_env, "bank", "key", "add-public", "cq-bank-1", "--key-id", "k1", "--public-key", good)
    assert again.returncode != 0
    assert "already" in again.stderr
    assert ctl(isolated_env, "bank", "key", "remove", "cq-bank-1", "--key-id", "k1").returncode == 0
    assert ctl(isolated_env, "bank", "key", "remove", "cq-bank-1", "--key-id", "k1").returncode != 0
