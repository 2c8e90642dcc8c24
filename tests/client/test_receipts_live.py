"""Issue 29's acceptance on the real pipeline: a bank submits events (single, batch through
`settlement-submit --receipts DIR`, and ISO 20022), keeps every receipt the 202/200 answers
carry, waits for the integrator, fetches the proofs and the checkpoint with
`settlement-verify DIR --url`, and verifies everything offline with `settlement-verify DIR`.

Real processes: ingest (holding the log's signing and salt keys), aggregate, api and the
integrator, on the module's fresh database and topics. Before this work ingest answered no
receipt and settlement-submit had no --receipts: the receipt assertions fail on that code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from settlement_client.client import Client
from settlement_client.tlog.note import VerifierKey
from settlement_client.tlog.promise import Receipt, verify_receipt
from settlement_core.tlog.keys import LogKeys, SigningKey
from tests.client.conftest import Pipeline, start_pipeline
from tests.client.test_cli_live import write_csv
from tests.security.intake_support import pacs008
from tests.support.intake import Bank
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

ORIGIN = "receipts-live.test/log"
BIN = Path(sys.executable).parent
ROWS = 40
# The integrator's pace here: a step every 0.2 s; the proofs exist within seconds of the
# aggregator's commit. Generous for a loaded shared machine.
PROOF_WAIT_S = 180


@pytest.fixture(scope="module")
def keys() -> LogKeys:
    return LogKeys(ORIGIN, SigningKey.generate(ORIGIN))


@pytest.fixture(scope="module")
def logged_pipeline(isolated_env: dict[str, str], services: ServiceRunner, keys: LogKeys) -> Pipeline:
    tlog = {
        "TLOG_ORIGIN": ORIGIN,
        "TLOG_SIGNING_KEY": keys.active.encode(),
        "TLOG_SALT_KEY": os.urandom(32).hex(),
        "TLOG_MAX_MERGE_DELAY_S": "600",
    }
    pipeline = start_pipeline(isolated_env, services, tlog)
    services.start("integrator", "settlement_aggregate.integrator", extra_env={**tlog, "TLOG_INTERVAL_S": "0.2"})
    return pipeline


def _tool(name: str, bank: Bank, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SETTLEMENT_API_KEY": bank.key}
    return subprocess.run([str(BIN / name), *args], env=env, capture_output=True, text=True, timeout=600, check=False)


def _keep(folder: Path, answer: object) -> str:
    receipt = Receipt.from_json(json.dumps(answer))
    (folder / f"{receipt.leaf.event_id}.receipt.json").write_text(receipt.to_json())
    return receipt.leaf.event_id


def test_a_bank_keeps_its_receipts_and_verifies_every_one_offline(
    logged_pipeline: Pipeline, keys: LogKeys, tmp_path: Path
) -> None:
    pipeline = logged_pipeline
    bank = pipeline.bank("RCPTLIVE", "--bic", "CQRCCNBJ")
    folder = tmp_path / "receipts"
    trusted = [keys.active.verifier]

    # batch: settlement-submit keeps one receipt per accepted row
    events = tmp_path / "events.csv"
    write_csv(events, "RCPT", ROWS)
    submitted = _tool("settlement-submit", bank, str(events), "--url", pipeline.ingest.url, "--receipts", str(folder))
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert f"receipts kept: {ROWS}" in submitted.stdout
    kept = sorted(folder.glob("*.receipt.json"))
    assert len(kept) == ROWS
    for path in kept:
        receipt = Receipt.from_json(path.read_text())
        assert verify_receipt(receipt, ORIGIN, trusted).max_merge_delay_s == 600
        assert receipt.leaf.bank_id == "RCPTLIVE"

    # single: the 202 carries the receipt; the library returns it
    with Client(pipeline.ingest.url, bank.key) as client:
        single = client.submit(
            {
                "event_id": "RCPT-SINGLE",
                "category": "cross_border_rmb",
                "amount": "12.34",
                "currency": "CNY",
                "value_date": "2020-03-04",
                "direction": "inbound",
                "counterparty_country": "SG",
            }
        )
        assert single.status == "accepted"
        assert single.receipt is not None
        (folder / "RCPT-SINGLE.receipt.json").write_text(single.receipt.to_json())
    # ISO 20022 as JSON: one receipt per accepted transaction
    iso = httpx.post(
        f"{pipeline.ingest.url}/v1/iso20022",
        params={"category": "cross_border_rmb"},
        content=pacs008(2, first=2900),
        headers={**bank.auth, "Content-Type": "application/xml"},
        timeout=30,
    )
    assert iso.status_code == 200, iso.text
    iso_ids = [_keep(folder, item["receipt"]) for item in iso.json()["results"]]
    assert len(iso_ids) == 2
    # a repeat is a duplicate and carries no receipt (the first answer's is the one to keep)
    repeat = httpx.post(
        f"{pipeline.ingest.url}/v1/iso20022",
        params={"category": "cross_border_rmb"},
        content=pacs008(2, first=2900),
        headers={**bank.auth, "Content-Type": "application/xml"},
        timeout=30,
    )
    assert [("receipt" in item, item["status"]) for item in repeat.json()["results"]] == [(False, "duplicate")] * 2

    # wait for the integrator, fetching checkpoint, keys and proofs through the API
    (folder / "log-keys.txt").write_text(httpx.get(f"{pipeline.api_url}/v1/log/keys", timeout=30).text)
    assert [VerifierKey.parse(line) for line in (folder / "log-keys.txt").read_text().splitlines()] == trusted
    deadline = time.monotonic() + PROOF_WAIT_S
    while True:
        fetched = _tool("settlement-verify", bank, str(folder), "--url", pipeline.api_url)
        if fetched.returncode == 0:
            break
        assert time.monotonic() < deadline, fetched.stdout + fetched.stderr
        time.sleep(1)
    assert len(list(folder.glob("*.tlog-proof"))) == ROWS + 3

    # offline: nothing but the folder
    offline = _tool("settlement-verify", bank, str(folder))
    assert offline.returncode == 0, offline.stdout + offline.stderr

    # the check can fail: a receipt whose body hash was changed no longer matches its proof
    victim = kept[0]
    document = json.loads(victim.read_text())
    document["leaf"]["body_sha256"] = "0" * 64
    victim.write_text(json.dumps(document))
    tampered = _tool("settlement-verify", bank, str(folder))
    assert tampered.returncode != 0
    assert victim.name in tampered.stdout + tampered.stderr
