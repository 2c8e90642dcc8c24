"""Issue 29's tamper acceptance on the real pipeline: a bank submits events with
`settlement-submit --receipts DIR`, the integrator logs them, the bank fetches its proofs;
then one amount is changed by hand in PostgreSQL, and separately one row is deleted.

Each time, before and after the tamper, with the same procedure:
- `settlementctl log verify` exits 0 with the signed size and root, then 1 naming the first
  leaf that no longer matches (index, bank_id, event_id, kind, what differs);
- a checkpoint computed from the ledger as it stands (the "ledger" tree log verify
  recomputes, signed with the log's own key, i.e. what an insider would have to publish for
  the log to agree with the edited ledger) accepts the bank's saved proof before, and
  rejects it after: the saved inclusion proof no longer verifies, and `settlement-verify`
  refuses the rewritten checkpoint as not extending the one it saw (same size, another root;
  or a smaller size).
Meanwhile the real log, append-only, keeps the leaf the bank holds: the bank's proof keeps
verifying against the log's newest checkpoint, and the API answers 409 for the edited row.

Before this work there was no `settlementctl log verify` (`log` was an unknown command:
argparse exits 2), so every assertion on its exit code and output fails on that code.

Real processes on the module's fresh database and topics: ingest (holding the log's signing
and salt keys), aggregate, api and the integrator.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from settlement_client.tlog.checkpoint import Checkpoint, open_checkpoint
from settlement_client.tlog.proofs import InclusionProof, ProofError, verify_inclusion
from settlement_client.tlog.tlog_proof import TlogProof
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import sign_checkpoint
from tests.client.conftest import Pipeline
from tests.client.test_cli_live import write_csv
from tests.conftest import ServiceRunner, free_port
from tests.support.ctl import settlementctl
from tests.support.intake import Bank, IngestService

pytestmark = pytest.mark.integration

ORIGIN = "log-verify.test/log"
BANK = "TAMPER1"
ROWS = 24
BIN = Path(sys.executable).parent
# The integrator steps every 0.2 s here; generous for a loaded shared machine.
WAIT_S = 180


@dataclass
class Submitted:
    pipeline: Pipeline
    bank: Bank
    folder: Path
    keys: LogKeys
    ctl_env: dict[str, str]


def _tool(name: str, bank: Bank, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SETTLEMENT_API_KEY": bank.key}
    return subprocess.run([str(BIN / name), *args], env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def submitted(
    isolated_env: dict[str, str], services: ServiceRunner, tmp_path_factory: pytest.TempPathFactory
) -> Submitted:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    salt_key = os.urandom(32).hex()
    tlog = {"TLOG_ORIGIN": ORIGIN, "TLOG_SIGNING_KEY": keys.active.encode(), "TLOG_SALT_KEY": salt_key}
    ports = {"ingest": free_port(), "api": free_port(), "aggregate": free_port()}
    services.start("ingest", "settlement_ingest", ports["ingest"], {"INGEST_PORT": str(ports["ingest"]), **tlog})
    services.start("aggregate", "settlement_aggregate", ports["aggregate"], {"AGGREGATE_PORT": str(ports["aggregate"])})
    services.start("api", "settlement_api", ports["api"], {"API_PORT": str(ports["api"])})
    services.start("integrator", "settlement_aggregate.integrator", extra_env={**tlog, "TLOG_INTERVAL_S": "0.2"})
    pipeline = Pipeline(
        IngestService(f"http://127.0.0.1:{ports['ingest']}", isolated_env),
        f"http://127.0.0.1:{ports['api']}",
        f"http://127.0.0.1:{ports['aggregate']}",
    )
    bank = pipeline.bank(BANK)
    tmp = tmp_path_factory.mktemp("log-verify")
    folder = tmp / "receipts"
    events = tmp / "events.csv"
    write_csv(events, "TMP", ROWS)
    done = _tool("settlement-submit", bank, str(events), "--url", pipeline.ingest.url, "--receipts", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list(folder.glob("*.receipt.json"))) == ROWS

    # the bank keeps the log's public keys and fetches its proofs once integrated
    published = httpx.get(f"{pipeline.api_url}/v1/log/keys", timeout=30).text
    assert published.split() == [keys.active.verifier.encode()]
    (folder / "log-keys.txt").write_text(published)
    deadline = time.monotonic() + WAIT_S
    while (fetched := _tool("settlement-verify", bank, str(folder), "--url", pipeline.api_url)).returncode != 0:
        assert time.monotonic() < deadline, fetched.stdout + fetched.stderr
        time.sleep(1)
    assert len(list(folder.glob("*.tlog-proof"))) == ROWS
    # the operator's side: the ledger, the salt key, and the log's public keys (not the signing key)
    ctl_env = {**isolated_env, "TLOG_SALT_KEY": salt_key, "TLOG_VERIFIER_KEYS": published}
    return Submitted(pipeline, bank, folder, keys, ctl_env)


def log_verify(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = settlementctl(env, "log", "verify")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _sql(env: dict[str, str], statement: str, **params: object) -> None:
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def _proof_of(folder: Path, event_id: str) -> TlogProof:
    return TlogProof.parse((folder / f"{event_id}.tlog-proof").read_text())


def _ledger_checkpoint(submitted: Submitted, report: dict[str, Any]) -> str:
    """The checkpoint of the tree recomputed from the ledger, signed with the log's key."""
    root = base64.b64decode(report["ledger"]["root"])
    return sign_checkpoint(submitted.keys, Checkpoint(ORIGIN, report["ledger"]["size"], root))


def _proof_holds(proof: TlogProof, checkpoint_note: str, submitted: Submitted) -> bool:
    """Does the bank's saved leaf and path give the root of this (signed) checkpoint?"""
    opened = open_checkpoint(checkpoint_note, ORIGIN, [submitted.keys.active.verifier])
    try:
        inclusion = InclusionProof(proof.index, opened.size, proof.hashes)
        verify_inclusion(inclusion, proof.leaf().leaf_hash(), opened.root_hash)
    except ProofError:
        return False
    return True


@pytest.fixture
def bank_folder(submitted: Submitted, tmp_path: Path) -> Path:
    """A copy of the bank's folder, so each test's `settlement-verify` runs see the same start."""
    copy = tmp_path / "bank"
    shutil.copytree(submitted.folder, copy)
    return copy


def _verify_with(folder: Path, checkpoint_note: str, bank: Bank) -> subprocess.CompletedProcess[str]:
    (folder / "checkpoint").write_text(checkpoint_note)
    return _tool("settlement-verify", bank, str(folder))


def test_a_changed_amount_is_named_and_the_banks_proof_rejects_the_rewrite(
    submitted: Submitted, bank_folder: Path
) -> None:
    env, victim = submitted.ctl_env, "TMP-00007"
    proof = _proof_of(submitted.folder, victim)

    # untampered: everything matches, and the ledger's tree is the signed one
    code, before = log_verify(env)
    assert (code, before["ok"], before["first"]) == (0, True, None)
    assert before["verified"] == before["checkpoint"]
    assert before["verified"]["size"] == ROWS
    assert (before["ledger"], before["log"]) == (before["verified"], before["verified"])
    assert _proof_holds(proof, _ledger_checkpoint(submitted, before), submitted)
    assert _verify_with(bank_folder, _ledger_checkpoint(submitted, before), submitted.bank).returncode == 0

    _sql(env, "UPDATE ledger_events SET amount = amount + 1000 WHERE bank_id = :b AND event_id = :e", b=BANK, e=victim)
    try:
        code, after = log_verify(env)
        assert (code, after["ok"], after["verified"]) == (1, False, None)
        first = after["first"]
        assert (first["kind"], first["index"], first["bank_id"], first["event_id"]) == (
            "changed",
            proof.index,
            BANK,
            victim,
        )
        assert [d["member"] for d in first["differs"]] == ["ledger_events.body_hash", "body_sha256"]
        assert first["differs"][1]["logged"] == proof.leaf().body_sha256 != first["differs"][1]["ledger"]
        assert after["findings_total"] == 1
        # the log itself is untouched and still signed; only the ledger's tree moved
        assert after["log"] == after["checkpoint"] == before["checkpoint"]
        assert after["ledger"]["size"] == ROWS
        assert after["ledger"]["root"] != before["ledger"]["root"]

        # what a rewrite would have to publish does not hold the bank's leaf ...
        rewritten = _ledger_checkpoint(submitted, after)
        assert not _proof_holds(proof, rewritten, submitted)
        # ... and the bank's own tool refuses it: same size as the checkpoint it saw, another root
        refused = _verify_with(bank_folder, rewritten, submitted.bank)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "does not extend the checkpoint seen before" in refused.stdout + refused.stderr
        # while the real log keeps the bank's leaf: its proof verifies against the log's checkpoint
        newest = httpx.get(f"{submitted.pipeline.api_url}/v1/log/checkpoint", timeout=30).text
        assert _proof_holds(proof, newest, submitted)
    finally:
        _sql(
            env,
            "UPDATE ledger_events SET amount = amount - 1000 WHERE bank_id = :b AND event_id = :e",
            b=BANK,
            e=victim,
        )
    # put back exactly, the ledger gives the signed root again: the check is exact, not noisy
    code, restored = log_verify(env)
    assert (code, restored["verified"]) == (0, before["verified"])


def test_a_deleted_row_is_named_and_the_banks_proof_rejects_the_rewrite(
    submitted: Submitted, bank_folder: Path
) -> None:
    env, victim = submitted.ctl_env, "TMP-00011"
    proof = _proof_of(submitted.folder, victim)

    code, before = log_verify(env)
    assert (code, before["ok"], before["verified"]["size"]) == (0, True, ROWS)
    assert _proof_holds(proof, _ledger_checkpoint(submitted, before), submitted)

    _sql(env, "DELETE FROM ledger_events WHERE bank_id = :b AND event_id = :e", b=BANK, e=victim)
    code, after = log_verify(env)
    assert (code, after["ok"]) == (1, False)
    first = after["first"]
    # the row is gone; the log's own copy of the leaf says whose event it was
    assert (first["kind"], first["index"], first["bank_id"], first["event_id"]) == (
        "deleted",
        proof.index,
        BANK,
        victim,
    )
    assert after["findings_total"] == 1
    assert after["ledger"]["size"] == ROWS - 1
    assert after["log"] == after["checkpoint"] == before["checkpoint"]

    rewritten = _ledger_checkpoint(submitted, after)
    assert not _proof_holds(proof, rewritten, submitted)
    refused = _verify_with(bank_folder, rewritten, submitted.bank)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"the log shrank from {ROWS} to {ROWS - 1} leaves" in refused.stdout + refused.stderr


def test_it_refuses_to_run_without_the_logs_public_keys(submitted: Submitted) -> None:
    """The keys it trusts come from outside the database it audits, never from tlog_keys."""
    done = settlementctl({**submitted.ctl_env, "TLOG_VERIFIER_KEYS": ""}, "log", "verify")
    assert done.returncode == 2
    assert "no public keys of the log" in done.stderr
    assert done.stdout == ""
    # another log's key does not vouch for this one's checkpoint
    stranger = SigningKey.generate(ORIGIN).verifier.encode()
    code, report = log_verify({**submitted.ctl_env, "TLOG_VERIFIER_KEYS": stranger})
    assert code == 1
    # (after any leaf findings the module's other tests left: they come first, in index order)
    [checkpoint] = [f for f in report["findings"] if f["kind"] == "checkpoint"]
    assert checkpoint["reason"].startswith("the newest checkpoint does not verify")
