"""Check a bank's folder of receipts and proofs offline (what `settlement-verify DIR` runs).

The folder (docs/receipts.md):

    log-keys.txt           the log's public keys, one `name+hash+base64` per line (`#` comments);
                           all named after the log's origin, which is taken from them
    checkpoint             the newest signed checkpoint the bank fetched
    checkpoint.seen        the last checkpoint this check accepted (written here, never by hand)
    consistency-N-M.json   consistency proofs fetched from the log:
                           {"from": N, "to": M, "hashes": ["<base64>", ...]}
    **/*.receipt.json      receipts kept when events were accepted (leaf + signed promise)
    **/*.tlog-proof        inclusion proofs fetched later (C2SP tlog-proof)

Checks, each failure a finding: the checkpoint is signed by a log key; it extends the one
seen last time (a consistency proof, so a rewritten or forked history fails); every promise
is the log's and matches its leaf; every proof verifies under its own checkpoint and that
checkpoint is consistent with the current one; every receipt past its merge deadline has a
proof; no proof shows the log holding a different leaf for an event the bank has a receipt
for. `checkpoint.seen` advances only when nothing failed.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from settlement_client.tlog.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from settlement_client.tlog.note import NoteError, VerifierKey
from settlement_client.tlog.promise import Promise, PromiseError, Receipt, verify_receipt
from settlement_client.tlog.proofs import ConsistencyProof, ProofError, verify_consistency
from settlement_client.tlog.tlog_proof import TlogProofError, VerifiedInclusion, verify_tlog_proof

KEYS_FILE = "log-keys.txt"
CHECKPOINT_FILE = "checkpoint"
SEEN_FILE = "checkpoint.seen"
RECEIPT_SUFFIX = ".receipt.json"
PROOF_SUFFIX = ".tlog-proof"


class FolderError(Exception):
    """The folder cannot be checked at all (no keys, no checkpoint)."""


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    reason: str


@dataclass
class Report:
    checkpoint: Checkpoint | None = None
    previous: Checkpoint | None = None
    receipts: int = 0
    included: int = 0
    pending: int = 0
    proofs: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def fail(self, path: Path | str, reason: str) -> None:
        self.findings.append(Finding(str(path), reason))


def read_keys(path: Path) -> tuple[str, tuple[VerifierKey, ...]]:
    """The origin and the trusted keys from a `log-keys.txt`."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise FolderError(f"cannot read the log's keys from {path}: {exc.strerror}") from exc
    keys: list[VerifierKey] = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(VerifierKey.parse(line))
        except NoteError as exc:
            raise FolderError(f"{path}:{number}: {exc}") from exc
    names = {k.name for k in keys}
    if len(names) != 1:
        raise FolderError(f"{path} must hold the keys of one log (key names found: {sorted(names) or 'none'})")
    return names.pop(), tuple(keys)


def consistency_file(folder: Path, old: int, new: int) -> Path:
    return folder / f"consistency-{old}-{new}.json"


def read_consistency(path: Path) -> ConsistencyProof:
    value = json.loads(path.read_text())
    if not isinstance(value, dict) or set(value) != {"from", "to", "hashes"}:
        raise ValueError('a consistency proof is {"from": N, "to": M, "hashes": [...]}')
    old, new, hashes = value["from"], value["to"], value["hashes"]
    if not isinstance(old, int) or not isinstance(new, int) or not isinstance(hashes, list):
        raise ValueError("from and to are integers, hashes a list")
    return ConsistencyProof(old, new, tuple(base64.b64decode(h, validate=True) for h in hashes))


def _relate(folder: Path, a: Checkpoint, b: Checkpoint) -> str | None:
    """None when the two checkpoints are views of one history, else why not."""
    old, new = (a, b) if a.size <= b.size else (b, a)
    if old.size == new.size:
        return None if old.root_hash == new.root_hash else f"two different trees of size {old.size}: a forked log"
    path = consistency_file(folder, old.size, new.size)
    if not path.exists():
        return (
            f"no consistency proof from {old.size} to {new.size} saved ({path.name}; "
            f"fetch GET /v1/log/consistency?from={old.size}&to={new.size})"
        )
    try:
        proof = read_consistency(path)
        if (proof.old_size, proof.new_size) != (old.size, new.size):
            return f"{path.name} is a proof from {proof.old_size} to {proof.new_size}"
        verify_consistency(proof, old.root_hash, new.root_hash)
    except (ValueError, ProofError) as exc:
        return f"{path.name}: {exc}"
    return None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def save_receipt(folder: Path, receipt: Receipt) -> Path:
    """Keep a receipt as `<event_id>.receipt.json` in `folder` (what settlement-submit
    --receipts writes), atomically: a crash leaves the old file or the new, never half."""
    name = receipt.leaf.event_id + RECEIPT_SUFFIX
    if Path(name).name != name or name.startswith("."):
        raise ValueError(f"event_id {receipt.leaf.event_id!r} cannot name a file")
    path = folder / name
    _write_atomically(path, receipt.to_json())
    return path


def _files(folder: Path, suffix: str) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*" + suffix) if p.is_file())


def verify_folder(folder: Path, now: datetime, checkpoint_file: Path | None = None) -> Report:
    """Run every check on `folder`; advance `checkpoint.seen` when all pass."""
    origin, keys = read_keys(folder / KEYS_FILE)
    checkpoint_path = checkpoint_file or folder / CHECKPOINT_FILE
    try:
        checkpoint_text = checkpoint_path.read_text()
    except OSError as exc:
        raise FolderError(f"cannot read the checkpoint {checkpoint_path}: {exc.strerror}") from exc
    report = Report()
    try:
        current = open_checkpoint(checkpoint_text, origin, keys)
    except CheckpointError as exc:
        report.fail(checkpoint_path, str(exc))
        return report
    report.checkpoint = current

    seen_path = folder / SEEN_FILE
    if seen_path.exists():
        try:
            previous = open_checkpoint(seen_path.read_text(), origin, keys)
        except CheckpointError as exc:
            report.fail(seen_path, str(exc))
        else:
            report.previous = previous
            if previous.size > current.size:
                report.fail(checkpoint_path, f"the log shrank from {previous.size} to {current.size} leaves")
            elif (why := _relate(folder, previous, current)) is not None:
                report.fail(checkpoint_path, f"does not extend the checkpoint seen before: {why}")

    included: dict[bytes, VerifiedInclusion] = {}
    by_event: dict[tuple[str, str], list[tuple[Path, VerifiedInclusion]]] = {}
    for path in _files(folder, PROOF_SUFFIX):
        report.proofs += 1
        try:
            verified = verify_tlog_proof(path.read_text(), origin, keys)
        except (TlogProofError, OSError, UnicodeDecodeError) as exc:
            report.fail(path, str(exc))
            continue
        if (why := _relate(folder, verified.checkpoint, current)) is not None:
            report.fail(path, f"its checkpoint and the current one: {why}")
            continue
        included[verified.leaf.leaf_hash()] = verified
        by_event.setdefault((verified.leaf.bank_id, verified.leaf.event_id), []).append((path, verified))

    for path in _files(folder, RECEIPT_SUFFIX):
        report.receipts += 1
        try:
            receipt = Receipt.from_json(path.read_text())
            promise: Promise = verify_receipt(receipt, origin, keys)
        except (PromiseError, OSError, UnicodeDecodeError) as exc:
            report.fail(path, str(exc))
            continue
        leaf_hash = receipt.leaf.leaf_hash()
        for proof_path, other in by_event.get((receipt.leaf.bank_id, receipt.leaf.event_id), []):
            if other.leaf.leaf_hash() != leaf_hash:
                report.fail(
                    proof_path, f"the log holds another leaf for event {receipt.leaf.event_id} than {path.name}"
                )
        if leaf_hash in included:
            report.included += 1
        elif now > promise.merge_deadline:
            report.fail(
                path, f"no proof of inclusion, and the log promised one by {promise.merge_deadline.isoformat()}"
            )
        else:
            report.pending += 1

    if report.ok and (report.previous is None or report.previous != current):
        _write_atomically(seen_path, checkpoint_text)
    return report
