"""Issue 20 part 5 / audit finding M5: credentials with a lifecycle, against the real stack.

On the starting main: operator keys could not be revoked or rotated (no such commands), HMAC
secrets could not be rotated, `banks.hmac_secret` held them in plain text and the Redis
principal cache copied them (so its append-only file did too), and there was no audit log.
Each test below performs the action and checks the outcome through the real services."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import cast

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from settlement_core.request_signing import RequestParts, sign_v2
from tests.security.conftest import Stack
from tests.support.ctl import printed
from tests.support.intake import Bank, event

pytestmark = pytest.mark.integration

EVENTS = RequestParts("POST", "/v1/events", "")


def signed_post(stack: Stack, bank: Bank, secret: str) -> httpx.Response:
    raw = json.dumps(event()).encode()
    signature = sign_v2(secret, EVENTS, int(time.time()), raw)
    headers = {**bank.auth, "Content-Type": "application/json", "X-Signature": signature}
    return httpx.post(stack.ingest.url + "/v1/events", content=raw, headers=headers, timeout=30)


def test_revoked_operator_key_answers_401_at_once(stack: Stack) -> None:
    key = stack.operator_key("ops-revoke")
    assert stack.api("/v1/operator/completeness", key).status_code == 200  # cached principal now
    stack.ctl("operator", "revoke", "ops-revoke")
    answer = stack.api("/v1/operator/completeness", key)
    assert answer.status_code == 401, answer.text


def test_rotated_operator_key_old_fails_new_works(stack: Stack) -> None:
    old = stack.operator_key("ops-rotate")
    assert stack.api("/v1/operator/completeness", old).status_code == 200
    new = printed(stack.ctl("operator", "rotate", "ops-rotate"), "api_key")
    assert new != old
    assert stack.api("/v1/operator/completeness", old).status_code == 401
    assert stack.api("/v1/operator/completeness", new).status_code == 200


def test_hmac_rotation_overlap_both_valid_then_old_refused(stack: Stack) -> None:
    bank = stack.bank("OVERLAP", "--hmac")
    assert bank.hmac_secret is not None
    old = bank.hmac_secret
    assert signed_post(stack, bank, old).status_code == 202
    new = printed(stack.ctl("bank", "hmac", "rotate", "OVERLAP", "--overlap", "4s"), "hmac_secret")
    assert new != old
    assert signed_post(stack, bank, new).status_code == 202  # at once: failures re-read the database
    assert signed_post(stack, bank, old).status_code == 202  # inside the overlap
    time.sleep(5)
    refused = signed_post(stack, bank, old)
    assert refused.status_code == 401, refused.text
    assert signed_post(stack, bank, new).status_code == 202
    # No overlap: the old secret stops at once (within the 1 s re-read of the cache).
    newest = printed(stack.ctl("bank", "hmac", "rotate", "OVERLAP", "--overlap", "0s"), "hmac_secret")
    assert signed_post(stack, bank, newest).status_code == 202
    time.sleep(5.5)  # the in-process material cache lives 5 s
    assert signed_post(stack, bank, new).status_code == 401


def _raw(value: bytes | str) -> bytes:
    """A reply of a client without decode_responses is bytes; redis-py types it bytes | str."""
    return value if isinstance(value, bytes) else value.encode()


def _stored_values(cache: redis.Redis, name: bytes) -> list[bytes]:
    """Every value Redis holds under the key, whatever its type (hash entries as key=value)."""
    kind = _raw(cache.type(name)).decode()
    if kind == "string":
        return [_raw(cache.get(name) or b"")]
    if kind == "hash":
        return [_raw(k) + b"=" + _raw(v) for k, v in cache.hgetall(name).items()]
    if kind == "list":
        return [_raw(v) for v in cache.lrange(name, 0, -1)]
    if kind == "set":
        return [_raw(v) for v in cache.smembers(name)]
    if kind == "zset":
        # Without WITHSCORES the reply is the members alone; redis-py's return type also
        # covers the scored shapes.
        return [_raw(m) for m in cast(list[bytes | str], cache.zrange(name, 0, -1))]
    return []


def test_no_plaintext_secret_in_postgresql_or_redis(stack: Stack) -> None:
    bank = stack.bank("ATREST", "--hmac")
    assert bank.hmac_secret is not None
    secret = bank.hmac_secret
    assert signed_post(stack, bank, secret).status_code == 202  # fills every cache there is
    rotated = printed(stack.ctl("bank", "hmac", "rotate", "ATREST"), "hmac_secret")
    assert signed_post(stack, bank, rotated).status_code == 202
    needles = {secret, rotated, bank.key}

    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        assert "banks" in tables
        for table in tables:
            for row in conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars():
                for needle in needles:
                    assert needle not in row, f"{table} holds a secret or key in plain text"
                    assert needle.encode().hex() not in row
    engine.dispose()

    cache = redis.Redis.from_url(stack.env["REDIS_URL"])
    scanned = 0
    for key in cache.scan_iter(count=1000):
        scanned += 1
        name = _raw(key)
        values = _stored_values(cache, name)
        for needle in needles:
            assert needle.encode() not in name
            assert all(needle.encode() not in v for v in values), f"Redis {name!r} holds a secret"
    assert scanned > 0  # the principal cache was there to be scanned


def test_audit_log_records_admin_actions_and_operator_reads(stack: Stack, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    bank = stack.bank("AUDITED", "--hmac")
    assert bank.hmac_secret is not None
    stack.ctl("key", "rotate", "AUDITED")
    stack.ctl("bank", "hmac", "rotate", "AUDITED", "--overlap", "1h")
    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "k.pem").write_bytes(public)
    stack.ctl("bank", "key", "add-public", "AUDITED", "--key-id", "a1", "--public-key", str(tmp_path / "k.pem"))
    stack.ctl("bank", "key", "remove", "AUDITED", "--key-id", "a1")
    stack.ctl("key", "revoke", "AUDITED")
    operator = stack.operator_key("auditor")
    stack.ctl("operator", "add", "temp-op")
    stack.ctl("operator", "rotate", "temp-op")
    stack.ctl("operator", "revoke", "temp-op")

    # Operator reads of per-bank data, each logged before it is served.
    assert stack.api("/v1/banks/AUDITED/totals", operator).status_code in (200, 404)
    assert stack.api("/v1/operator/league", operator).status_code == 200
    assert stack.api("/v1/totals?bank_id=AUDITED", operator).status_code in (200, 404, 422)

    page = stack.api("/v1/audit?limit=200", operator)
    assert page.status_code == 200, page.text
    entries = page.json()["entries"]
    seen = {(e["action"], e["subject"]) for e in entries}
    for expected in [
        ("bank.add", "AUDITED"),
        ("bank.key.rotate", "AUDITED"),
        ("bank.hmac.rotate", "AUDITED"),
        ("bank.public_key.add", "AUDITED"),
        ("bank.public_key.remove", "AUDITED"),
        ("bank.key.revoke", "AUDITED"),
        ("operator.add", "auditor"),
        ("operator.add", "temp-op"),
        ("operator.key.rotate", "temp-op"),
        ("operator.key.revoke", "temp-op"),
        ("operator.read", "/v1/banks/AUDITED/totals"),
        ("operator.read", "/v1/operator/league"),
        ("operator.read", "/v1/totals"),
    ]:
        assert expected in seen, f"no audit entry {expected}"
    # Entries of earlier tests on the same stack (other operators' reads) are not this one's.
    start = min(e["id"] for e in entries if (e["action"], e["subject"]) == ("bank.add", "AUDITED"))
    mine = [e for e in entries if e["id"] >= start]
    reads = [e for e in mine if e["action"] == "operator.read"]
    assert reads
    assert all(e["actor"] == "operator:auditor" for e in reads)
    assert all(e["actor"].startswith("cli:") for e in mine if e["action"] != "operator.read")
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    assert bank.hmac_secret not in page.text
    assert bank.key not in page.text

    # Paging, the operator-only rule, and the CLI view of the same log.
    first = stack.api("/v1/audit?limit=2", operator).json()
    assert len(first["entries"]) == 2
    second = stack.api(f"/v1/audit?limit=2&before={first['next_before']}", operator).json()
    assert second["entries"][0]["id"] < first["entries"][-1]["id"]
    assert stack.api("/v1/audit", bank.key).status_code in (401, 403)
    printed_log = [json.loads(line) for line in stack.ctl("audit", "--json", "--limit", "500").splitlines()]
    assert {(e["action"], e["subject"]) for e in printed_log} >= {("bank.hmac.rotate", "AUDITED")}
