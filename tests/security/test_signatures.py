"""Issue 20 part 3 / audit finding M2: signatures over the whole request, against the real
ingest (HMAC v2, RFC 9421 Ed25519 with a registered public key, v1 off by default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from settlement_client import Client, Ed25519Signer, Unauthorized
from settlement_client.signing import OutgoingRequest
from settlement_core.request_signing import RequestParts, sign_v1, sign_v2
from tests.conftest import ServiceRunner
from tests.security.conftest import Stack
from tests.support.intake import SAMPLES, IngestService, event

pytestmark = pytest.mark.integration

BIC = "CQRCCNBJXXX"
SUBMIT = Path(sys.executable).with_name("settlement-submit")


def iso_body() -> bytes:
    # Fresh message and transaction ids each time, so a replay is not a mere duplicate.
    text = (SAMPLES / "pacs008_three_transfers.xml").read_text()
    tag = uuid.uuid4().hex[:10]
    for old in ("<MsgId>", "<EndToEndId>", "<TxId>", "<InstrId>"):
        text = text.replace(old, f"{old}{tag}-")
    return text.encode()


def post(
    stack: Stack, key: str, path: str, query: str, body: bytes, headers: dict[str, str], content_type: str
) -> httpx.Response:
    url = stack.ingest.url + path + (f"?{query}" if query else "")
    return httpx.post(
        url,
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, **headers},
        timeout=30,
    )


def test_replay_with_another_query_string_is_refused(stack: Stack) -> None:
    """The audit's attack: a signed ISO 20022 request replayed with another `?category=`.
    On the starting main the v1 signature covered only timestamp and body, so the replay
    was accepted (and counted under the new category); now the query is signed."""
    bank = stack.bank("M2BANK", "--hmac", "--bic", BIC)
    assert bank.hmac_secret is not None
    body = iso_body()
    now = int(time.time())
    signed = sign_v2(bank.hmac_secret, RequestParts("POST", "/v1/iso20022", "category=offshore"), now, body)
    first = post(stack, bank.key, "/v1/iso20022", "category=offshore", body, {"X-Signature": signed}, "application/xml")
    assert first.status_code in (200, 202), first.text
    replay = post(
        stack, bank.key, "/v1/iso20022", "category=cross_border_rmb", body, {"X-Signature": signed}, "application/xml"
    )
    assert replay.status_code == 401, replay.text
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert "query" in replay.json()["detail"]
    # The replay to another path is refused too.
    other = post(stack, bank.key, "/v1/events", "", body, {"X-Signature": signed}, "application/json")
    assert other.status_code == 401


def test_v1_signed_request_replayed_with_another_query_is_refused(stack: Stack) -> None:
    """The audit's exact request: a v1 signature (timestamp and body) that a bank made for
    `?category=offshore`, sent with `?category=cross_border_rmb`. Measured on 2026-12-07: the
    starting main's ingest (3a2fe90) answered this exact replay 200 with "accepted": 3 (all
    three transfers, under the attacker's category); now v1 is refused by default."""
    bank = stack.bank("M2V1", "--hmac", "--bic", BIC)
    assert bank.hmac_secret is not None
    body = iso_body()
    legacy = sign_v1(bank.hmac_secret, int(time.time()), body)
    replay = post(
        stack, bank.key, "/v1/iso20022", "category=cross_border_rmb", body, {"X-Signature": legacy}, "application/xml"
    )
    assert replay.status_code == 401, replay.text


def test_v1_signatures_are_refused_by_default(stack: Stack) -> None:
    bank = stack.bank("V1BANK", "--hmac")
    assert bank.hmac_secret is not None
    raw = json.dumps(event()).encode()
    response = post(
        stack,
        bank.key,
        "/v1/events",
        "",
        raw,
        {"X-Signature": sign_v1(bank.hmac_secret, int(time.time()), raw)},
        "application/json",
    )
    assert response.status_code == 401
    assert "v1" in response.json()["detail"]
    good = sign_v2(bank.hmac_secret, RequestParts("POST", "/v1/events", ""), int(time.time()), raw)
    assert post(stack, bank.key, "/v1/events", "", raw, {"X-Signature": good}, "application/json").status_code == 202


def test_v1_is_accepted_only_where_the_setting_allows_it(stack: Stack, services: ServiceRunner) -> None:
    served = services.serve("ingest-v1", "settlement_ingest", {"HMAC_V1_ALLOWED": "true"})
    legacy = IngestService(served.url, stack.env)
    bank = legacy.add_bank("V1LEGACY", "--hmac")
    assert bank.hmac_secret is not None
    raw = json.dumps(event()).encode()
    headers = {**bank.auth, "Content-Type": "application/json"}
    signature = sign_v1(bank.hmac_secret, int(time.time()), raw)
    assert (
        httpx.post(legacy.url + "/v1/events", content=raw, headers={**headers, "X-Signature": signature}).status_code
        == 202
    )
    services.kill("ingest-v1")


def _keypair(tmp_path: Path, name: str) -> tuple[Ed25519PrivateKey, Path, Path]:
    private = Ed25519PrivateKey.generate()
    private_pem = tmp_path / f"{name}.pem"
    private_pem.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    private_pem.chmod(0o600)
    public_pem = tmp_path / f"{name}.pub.pem"
    public_pem.write_bytes(private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, private_pem, public_pem


def test_ed25519_signed_requests_are_accepted_and_tampered_ones_refused(stack: Stack, tmp_path: Path) -> None:
    bank = stack.bank("EDBANK", "--bic", BIC)
    private, private_pem, public_pem = _keypair(tmp_path, "edbank")
    stack.ctl("bank", "key", "add-public", "EDBANK", "--key-id", "edbank-2026", "--public-key", str(public_pem))
    assert "edbank-2026\ted25519" in stack.ctl("bank", "key", "list", "EDBANK")

    signer = Ed25519Signer.from_file(private_pem, "edbank-2026")
    with Client(stack.ingest.url, bank.key, signer=signer) as client:
        assert client.submit(event()).status == "accepted"
        assert client.submit_batch([event(), event()]).accepted == 2
    # The bearer key alone is no longer enough for this bank.
    with Client(stack.ingest.url, bank.key) as client, pytest.raises(Unauthorized) as unsigned:
        client.submit(event())
    assert "Ed25519" in unsigned.value.problem.detail
    # A signature by another key under the registered keyid is refused.
    stranger = Ed25519Signer(Ed25519PrivateKey.generate(), "edbank-2026")
    with Client(stack.ingest.url, bank.key, signer=stranger) as other, pytest.raises(Unauthorized):
        other.submit(event())

    # Tampering after signing: another query string, another body.
    body = iso_body()
    headers = signer.headers(OutgoingRequest("POST", "/v1/iso20022", "category=offshore", body), int(time.time()))
    ok = post(stack, bank.key, "/v1/iso20022", "category=offshore", body, headers, "application/xml")
    assert ok.status_code in (200, 202), ok.text
    replay = post(stack, bank.key, "/v1/iso20022", "category=cross_border_rmb", body, headers, "application/xml")
    assert replay.status_code == 401
    tampered = post(
        stack, bank.key, "/v1/iso20022", "category=offshore", body.replace(b"Amt", b"Amt "), headers, "application/xml"
    )
    assert tampered.status_code == 401
    assert "Content-Digest" in tampered.json()["detail"]
    del private


def test_settlement_submit_signs_with_a_private_key(stack: Stack, tmp_path: Path) -> None:
    bank = stack.bank("EDCLI")
    _, private_pem, public_pem = _keypair(tmp_path, "edcli")
    stack.ctl("bank", "key", "add-public", "EDCLI", "--key-id", "edcli-1", "--public-key", public_pem.read_text())
    rows = tmp_path / "events.jsonl"
    rows.write_text("".join(json.dumps(event()) + "\n" for _ in range(3)))
    env = {**os.environ, "SETTLEMENT_INGEST_URL": stack.ingest.url, "SETTLEMENT_API_KEY": bank.key}
    env.pop("SETTLEMENT_HMAC_SECRET", None)
    done = subprocess.run(
        [str(SUBMIT), str(rows), "--private-key", str(private_pem), "--key-id", "edcli-1", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    unsigned = subprocess.run(
        [str(SUBMIT), str(rows), "--no-progress"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert unsigned.returncode != 0
