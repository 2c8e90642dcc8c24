"""`settlement-verify DIR` on folders a bank would keep, written by the real log core
(settlement_core.tlog: tree, signing, receipts): honest histories verify; a rewritten,
forked or shrunk history, a forged or altered receipt, an overdue promise and a swapped
leaf each fail and are named."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest

from settlement_client.receipts import SEEN_FILE, verify_folder
from settlement_client.tlog.checkpoint import Checkpoint
from settlement_client.tlog.leaf import Leaf
from settlement_client.tlog.promise import Receipt
from settlement_client.tlog.tlog_proof import TlogProof
from settlement_client.verify_cli import main
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import issue_receipt, sign_checkpoint
from settlement_core.tlog.tree import MemorySubtrees, Tree

ORIGIN = "settlement.example/log"
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MMD_S = 3600
SALT_KEY = b"k" * 32


class LogScenario:
    """The log's side, with the real core: receipts at intake, leaves appended, signed
    checkpoints, proofs; `folder` is the bank's."""

    def __init__(self, folder: Path, keys: LogKeys | None = None) -> None:
        self.folder = folder
        self.keys = keys or LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
        self.leaves: list[Leaf] = []
        self.receipts: dict[str, Receipt] = {}
        self.write_keys()

    def write_keys(self) -> None:
        keys = "\n".join(k.encode() for k in self.keys.published)
        (self.folder / "log-keys.txt").write_text(f"# {ORIGIN}\n{keys}\n")

    def accept(self, event_id: str, at: datetime = T0, bank_id: str = "BANK1") -> Receipt:
        receipt = issue_receipt(
            self.keys,
            SALT_KEY,
            bank_id=bank_id,
            event_id=event_id,
            body_sha256=Leaf.__name__.encode().hex().ljust(64, "0"),
            received_at=at,
            max_merge_delay_s=MMD_S,
        )
        self.receipts[event_id] = receipt
        (self.folder / f"{event_id}.receipt.json").write_text(receipt.to_json())
        return receipt

    def integrate(self, *event_ids: str) -> None:
        self.leaves.extend(self.receipts[e].leaf for e in event_ids)

    def tree(self, size: int | None = None, leaves: list[Leaf] | None = None) -> Tree:
        leaves = self.leaves if leaves is None else leaves
        return Tree(MemorySubtrees([leaf.leaf_hash() for leaf in leaves]), len(leaves) if size is None else size)

    def checkpoint(self, size: int | None = None, leaves: list[Leaf] | None = None) -> str:
        tree = self.tree(size, leaves)
        return sign_checkpoint(self.keys, Checkpoint(ORIGIN, tree.size, tree.root()))

    def publish(self, size: int | None = None, leaves: list[Leaf] | None = None) -> None:
        (self.folder / "checkpoint").write_text(self.checkpoint(size, leaves))

    def save_proof(self, event_id: str, size: int | None = None) -> Path:
        leaf = self.receipts[event_id].leaf
        index = self.leaves.index(leaf)
        tree = self.tree(size)
        proof = TlogProof(index, tree.inclusion(index).hashes, self.checkpoint(size), leaf.canonical_json())
        path = self.folder / "proofs" / f"{event_id}.tlog-proof"
        path.parent.mkdir(exist_ok=True)
        path.write_text(proof.encode())
        return path

    def save_consistency(self, old: int, new: int, leaves: list[Leaf] | None = None) -> None:
        proof = self.tree(new, leaves).consistency(old)
        body = {"from": old, "to": new, "hashes": [base64.b64encode(h).decode() for h in proof.hashes]}
        (self.folder / f"consistency-{old}-{new}.json").write_text(json.dumps(body))


@pytest.fixture
def log(tmp_path: Path) -> LogScenario:
    return LogScenario(tmp_path)


def _reasons(folder: Path, now: datetime = T0 + timedelta(minutes=5)) -> list[str]:
    return [f"{Path(f.path).name}: {f.reason}" for f in verify_folder(folder, now).findings]


def test_an_honest_history_verifies_and_the_seen_checkpoint_advances(log: LogScenario) -> None:
    for i in range(5):
        log.accept(f"E{i}")
    log.integrate("E0", "E1", "E2")
    for e in ("E0", "E1", "E2"):
        log.save_proof(e)  # proofs at size 3
    log.integrate("E3", "E4")
    log.publish()  # checkpoint at size 5
    log.save_consistency(3, 5)

    report = verify_folder(log.folder, T0 + timedelta(minutes=5))
    assert report.findings == []
    assert (report.receipts, report.included, report.pending, report.proofs) == (5, 3, 2, 3)
    assert (log.folder / SEEN_FILE).read_text() == (log.folder / "checkpoint").read_text()

    # later: the bank fetched proofs for the rest, and a newer checkpoint
    for i in range(5, 9):
        log.accept(f"E{i}")
    log.integrate(*(f"E{i}" for i in range(5, 9)))
    log.save_proof("E3")
    log.save_proof("E4")
    log.publish()
    log.save_consistency(5, 9)
    log.save_consistency(3, 9)
    report = verify_folder(log.folder, T0 + timedelta(minutes=10))
    assert report.findings == []
    assert report.previous is not None
    assert (report.previous.size, report.included, report.pending) == (5, 5, 4)


def test_a_rewritten_history_fails_the_consistency_proof(log: LogScenario) -> None:
    for i in range(6):
        log.accept(f"E{i}")
    log.integrate("E0", "E1", "E2", "E3")
    log.publish()
    assert _reasons(log.folder) == []  # the bank has now seen size 4
    seen = (log.folder / SEEN_FILE).read_text()

    # the operator rewrites leaf 1 (say, a changed amount) and rebuilds the log from there
    forged = list(log.leaves)
    forged[1] = Leaf("BANK1", "E1", "ff" * 32, forged[1].received_at, forged[1].salt)
    forged += [log.receipts["E4"].leaf, log.receipts["E5"].leaf]
    log.publish(leaves=forged)
    log.save_consistency(4, 6, leaves=forged)  # the best proof the forged log can give
    reasons = _reasons(log.folder)
    assert len(reasons) == 1
    assert "does not extend the checkpoint seen before" in reasons[0]
    assert "consistency-4-6.json" in reasons[0]
    assert "history rewritten" in reasons[0]
    assert (log.folder / SEEN_FILE).read_text() == seen  # not advanced


def test_a_fork_at_the_same_size_and_a_shrinking_log_fail(log: LogScenario) -> None:
    for i in range(3):
        log.accept(f"E{i}")
    log.integrate("E0", "E1", "E2")
    log.publish()
    assert _reasons(log.folder) == []
    log.publish(leaves=[log.leaves[0], log.leaves[2], log.leaves[1]])
    assert "forked log" in _reasons(log.folder)[0]
    log.publish(size=2)
    assert "shrank from 3 to 2" in _reasons(log.folder)[0]


def test_a_missing_consistency_proof_says_which_to_fetch(log: LogScenario) -> None:
    log.accept("E0")
    log.integrate("E0")
    log.publish()
    assert _reasons(log.folder) == []
    log.accept("E1")
    log.integrate("E1")
    log.publish()
    assert "fetch GET /v1/log/consistency?from=1&to=2" in _reasons(log.folder)[0]


def test_altered_and_forged_receipts_fail(log: LogScenario) -> None:
    receipt = log.accept("E0")
    log.integrate("E0")
    log.publish()
    changed = json.loads(receipt.to_json())
    changed["leaf"]["event_id"] = "E9"
    (log.folder / "E0.receipt.json").write_text(json.dumps(changed))
    assert "E0.receipt.json: the promise is for another leaf" in _reasons(log.folder)[0]

    forged = issue_receipt(
        LogKeys(ORIGIN, SigningKey.generate(ORIGIN)),
        SALT_KEY,
        bank_id="BANK1",
        event_id="E0",
        body_sha256="00" * 32,
        received_at=T0,
        max_merge_delay_s=MMD_S,
    )
    (log.folder / "E0.receipt.json").write_text(forged.to_json())
    assert "promise signature: no signature from a trusted key" in _reasons(log.folder)[0]


def test_an_overdue_promise_without_a_proof_fails(log: LogScenario) -> None:
    log.accept("E0")
    log.accept("E1")
    log.integrate("E0")
    log.publish()
    log.save_proof("E0")
    assert _reasons(log.folder, T0 + timedelta(seconds=MMD_S - 1)) == []
    reasons = _reasons(log.folder, T0 + timedelta(seconds=MMD_S + 1))
    assert reasons == ["E1.receipt.json: no proof of inclusion, and the log promised one by 2026-12-07T13:00:00+00:00"]


def test_a_proof_of_another_leaf_for_the_banks_event_fails(log: LogScenario) -> None:
    """The log included a leaf for E0 that is not the one it promised the bank."""
    log.accept("E0")
    swapped = Leaf("BANK1", "E0", "ee" * 32, T0.isoformat(), "11" * 16)
    log.receipts["swap"] = Receipt(swapped, "")
    log.leaves.append(swapped)
    log.publish()
    log.save_proof("swap")
    reasons = _reasons(log.folder)
    assert any("the log holds another leaf for event E0" in r for r in reasons)


def test_a_tampered_proof_fails(log: LogScenario) -> None:
    for i in range(4):
        log.accept(f"E{i}")
    log.integrate("E0", "E1", "E2", "E3")
    log.publish()
    path = log.save_proof("E2")
    lines = path.read_text().split("\n")
    lines[3] = base64.b64encode(bytes(32)).decode()  # the first sibling hash
    path.write_text("\n".join(lines))
    assert "E2.tlog-proof: leaf 2 is not in the tree of 4" in _reasons(log.folder)[0]


def test_checkpoints_signed_before_a_key_rotation_still_verify(log: LogScenario) -> None:
    for i in range(3):
        log.accept(f"E{i}")
    log.integrate("E0", "E1")
    log.save_proof("E0")  # signed with the first key
    log.keys = log.keys.rotated(SigningKey.generate(ORIGIN))
    log.write_keys()
    log.integrate("E2")
    log.save_proof("E2")
    log.publish()
    log.save_consistency(2, 3)
    assert _reasons(log.folder) == []


def test_cli_exit_codes(log: LogScenario, capsys: pytest.CaptureFixture[str]) -> None:
    log.accept("E0")
    log.integrate("E0")
    log.publish()
    log.save_proof("E0")
    out = StringIO()
    assert main([str(log.folder)], out) == 0
    assert "receipts: 1 (included 1, pending 0)" in out.getvalue()
    assert "failed: 0" in out.getvalue()

    log.publish(leaves=[Leaf("BANK1", "X", "00" * 32, T0.isoformat(), "00" * 16)])
    out = StringIO()
    assert main([str(log.folder)], out) == 1
    assert "forked log" in out.getvalue()

    (log.folder / "log-keys.txt").unlink()
    assert main([str(log.folder)], StringIO()) == 2
    assert "cannot read the log's keys" in capsys.readouterr().err


def test_cli_cannot_fetch_from_an_unreachable_api(log: LogScenario, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import free_port

    assert main([str(log.folder), "--url", f"http://127.0.0.1:{free_port()}"], StringIO()) == 2
    assert "GET /v1/log/checkpoint" in capsys.readouterr().err
