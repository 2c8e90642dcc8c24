"""The log's read endpoints on the real API process and PostgreSQL: ledger rows written as
the aggregator writes them (tests/api/ledger_state.py), logged by the real integrator step;
a bank fetches keys, checkpoint and its proofs into a folder and `settlement-verify` (the
installed console script) accepts it; the authorisation matrix; bad parameters are 422
problems; a ledger row edited by hand after it was logged is a 409, and the bank's folder
then fails against a forged checkpoint."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from settlement_client.tlog.checkpoint import open_checkpoint
from settlement_client.tlog.note import VerifierKey
from settlement_client.tlog.proofs import ConsistencyProof, verify_consistency
from settlement_core.tlog.integrate import integrate_once
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import issue_receipt
from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ServiceRunner, free_port
from tests.support.pipeline import bearer

pytestmark = pytest.mark.integration
ORIGIN = "settlement.test/log"
SALT_KEY = b"s" * 32
EVENTS = [Event("bankA", f"A{i}", "offshore", Decimal("10.00"), "USD", date(2020, 3, 1)) for i in range(5)] + [
    Event("bankB", "B1", "offshore", Decimal("20.00"), "USD", date(2020, 3, 2))
]


def _integrate(url: str, keys: LogKeys) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=1000, lag_s=0, now=datetime.now(UTC))
    engine.dispose()


def test_log_endpoints_and_offline_verification(
    isolated_env: dict[str, str], services: ServiceRunner, tmp_path: Path
) -> None:
    state = LedgerState(isolated_env)
    operator, bank_a, bank_b = state.add_operator("ops"), state.add_bank("bankA"), state.add_bank("bankB")
    for event in EVENTS[:3]:
        state.count(event)
    port = free_port()
    services.start("api", "settlement_api", port, {"API_PORT": str(port)})
    url = f"http://127.0.0.1:{port}"

    missing = httpx.get(url + "/v1/log/checkpoint", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    _integrate(isolated_env["DATABASE_URL"], keys)
    first = httpx.get(url + "/v1/log/checkpoint", timeout=10)  # public: no key
    assert first.status_code == 200
    published = [VerifierKey.parse(line) for line in httpx.get(url + "/v1/log/keys", timeout=10).text.splitlines()]
    assert published == [keys.active.verifier]
    assert open_checkpoint(first.text, ORIGIN, published).size == 3

    for event in EVENTS[3:]:
        state.count(event)
    state.close()
    _integrate(isolated_env["DATABASE_URL"], keys)
    latest = httpx.get(url + "/v1/log/checkpoint", timeout=10).text
    old_cp, new_cp = open_checkpoint(first.text, ORIGIN, published), open_checkpoint(latest, ORIGIN, published)
    assert new_cp.size == 6
    body = httpx.get(url + "/v1/log/consistency", params={"from": 3, "to": 6}, timeout=10).json()
    assert (body["from"], body["to"]) == (3, 6)
    proof = ConsistencyProof(3, 6, tuple(base64.b64decode(h) for h in body["hashes"]))
    verify_consistency(proof, old_cp.root_hash, new_cp.root_hash)

    cases: tuple[tuple[dict[str, int | str], int, str], ...] = (
        ({"from": -1, "to": 3}, 422, "#/query/from"),
        ({"from": "x", "to": 3}, 422, "#/query/from"),
        ({"from": 3}, 422, "#/query/to"),
        ({"from": 4, "to": 3}, 404, "#/query/from"),
        ({"from": 3, "to": 7}, 404, "#/query/to"),
    )
    for params, status, pointer in cases:
        bad = httpx.get(url + "/v1/log/consistency", params=params, timeout=10)
        assert bad.status_code == status, params
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert [e["pointer"] for e in bad.json()["errors"]] == [pointer]

    # the bank's folder: keys, the first checkpoint as seen, the newest, its proofs
    folder = tmp_path / "receipts"
    folder.mkdir()
    (folder / "log-keys.txt").write_text(httpx.get(url + "/v1/log/keys", timeout=10).text)
    (folder / "checkpoint.seen").write_text(first.text)
    (folder / "checkpoint").write_text(latest)
    (folder / "consistency-3-6.json").write_text(
        httpx.get(url + "/v1/log/consistency", params={"from": 3, "to": 6}).text
    )
    for event in EVENTS[:5]:
        got = httpx.get(url + f"/v1/receipts/{event.event_id}/proof", headers=bearer(bank_a), timeout=10)
        assert got.status_code == 200, got.text
        (folder / f"{event.event_id}.tlog-proof").write_text(got.text)
    verify = [sys.executable, "-m", "settlement_client.verify_cli", str(folder)]
    result = subprocess.run(verify, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "proofs: 5" in result.stdout

    # the same with receipts, as ingest will hand them out, fetched by the installed CLI
    bank_folder = tmp_path / "bank-a"
    bank_folder.mkdir()
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event_id, body_hash, ingested_at FROM ledger_events WHERE bank_id = 'bankA' ORDER BY id")
        ).all()
    engine.dispose()
    for row in rows:
        receipt = issue_receipt(
            keys,
            SALT_KEY,
            bank_id="bankA",
            event_id=row.event_id,
            body_sha256=bytes(row.body_hash).hex(),
            received_at=row.ingested_at,
            max_merge_delay_s=3600,
        )
        (bank_folder / f"{row.event_id}.receipt.json").write_text(receipt.to_json())
    cli = Path(sys.executable).with_name("settlement-verify")
    command = [str(cli), str(bank_folder), "--url", url, "--fetch-keys"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={"SETTLEMENT_API_KEY": bank_a, "PATH": ""}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fetched: 5 proofs (0 not in the log yet)" in result.stdout
    assert "receipts: 5 (included 5, pending 0)" in result.stdout
    # and again later: nothing new to fetch, the seen checkpoint is the newest
    result = subprocess.run(
        command[:-1], capture_output=True, text=True, timeout=120, env={"SETTLEMENT_API_KEY": bank_a, "PATH": ""}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "previous checkpoint: size 6" in result.stdout

    # who may read a proof
    assert httpx.get(url + "/v1/receipts/A1/proof", timeout=10).status_code == 401
    assert httpx.get(url + "/v1/receipts/A1/proof", headers=bearer(bank_b), timeout=10).status_code == 404
    assert httpx.get(url + "/v1/receipts/A1/proof", headers=bearer(operator), timeout=10).status_code == 422
    as_operator = httpx.get(
        url + "/v1/receipts/A1/proof", params={"bank_id": "bankA"}, headers=bearer(operator), timeout=10
    )
    assert as_operator.status_code == 200
    bad_id = httpx.get(url + "/v1/receipts/%20x/proof", headers=bearer(bank_a), timeout=10)
    assert bad_id.status_code == 422
    assert httpx.get(url + "/v1/receipts/A99/proof", headers=bearer(bank_a), timeout=10).status_code == 404

    # an amount and body hash edited by hand after logging: the API refuses to vouch for it
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE ledger_events SET amount = amount * 10, body_hash = decode(repeat('11', 32), 'hex')
                    WHERE bank_id = 'bankA' AND event_id = 'A2'""")
        )
    engine.dispose()
    changed = httpx.get(url + "/v1/receipts/A2/proof", headers=bearer(bank_a), timeout=10)
    assert changed.status_code == 409
    assert changed.json()["type"].endswith("ledger-row-changed")
