"""Bring a receipts folder up to date from the API before `settlement-verify` checks it
offline (`settlement-verify DIR --url https://api.example`).

Fetched: the newest checkpoint (`checkpoint`); the consistency proofs the checks will need
(from `checkpoint.seen` and from each saved proof's checkpoint to the newest); the
inclusion proof of every receipt that has none yet (with the bank's key). Nothing fetched is
trusted: the offline checks verify all of it. The log's keys are fetched only when asked
(`--fetch-keys`, trust on first use): a bank should compare them with the ones the regulator
published once, out of band.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from settlement_client.receipts import (
    CHECKPOINT_FILE,
    KEYS_FILE,
    PROOF_SUFFIX,
    RECEIPT_SUFFIX,
    SEEN_FILE,
    consistency_file,
)
from settlement_client.tlog.checkpoint import Checkpoint, CheckpointError
from settlement_client.tlog.note import NoteError, SignedNote
from settlement_client.tlog.promise import PromiseError, Receipt
from settlement_client.tlog.tlog_proof import TlogProof, TlogProofError


class FetchError(Exception):
    """The API could not be reached or answered something unusable."""


@dataclass
class Fetched:
    proofs: int = 0
    pending: int = 0
    consistency: int = 0


def _size_of(note: str) -> int | None:
    """The tree size a checkpoint claims (unverified: only to know what to fetch)."""
    try:
        return Checkpoint.parse_text(SignedNote.parse(note).text).size
    except (NoteError, CheckpointError):
        return None


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def _get(client: httpx.Client, path: str, **kwargs: object) -> httpx.Response:
    try:
        return client.get(path, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {path}: {exc}") from exc


def refresh_folder(folder: Path, client: httpx.Client, fetch_keys: bool = False) -> Fetched:
    """`client`: an httpx.Client with base_url the API and, for proofs, the bank's bearer key."""
    fetched = Fetched()
    if fetch_keys:
        keys = _get(client, "/v1/log/keys")
        if keys.status_code != 200:
            raise FetchError(f"GET /v1/log/keys: HTTP {keys.status_code}")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        _write(folder / KEYS_FILE, f"# fetched from {client.base_url} at {stamp}: check out of band\n{keys.text}")
    older: set[int] = set()
    seen = folder / SEEN_FILE
    if seen.exists() and (size := _size_of(seen.read_text())) is not None:
        older.add(size)
    proved: set[tuple[str, str]] = set()
    for path in folder.rglob("*" + PROOF_SUFFIX):
        try:
            proof = TlogProof.parse(path.read_text())
            leaf = proof.leaf()
        except (TlogProofError, OSError, UnicodeDecodeError):
            continue  # the offline check names it
        proved.add((leaf.bank_id, leaf.event_id))
        if (size := _size_of(proof.checkpoint)) is not None:
            older.add(size)

    for path in sorted(folder.rglob("*" + RECEIPT_SUFFIX)):
        try:
            receipt = Receipt.from_json(path.read_text())
        except (PromiseError, OSError, UnicodeDecodeError):
            continue
        leaf = receipt.leaf
        if (leaf.bank_id, leaf.event_id) in proved:
            continue
        got = _get(client, f"/v1/receipts/{leaf.event_id}/proof")
        if got.status_code == 404:
            fetched.pending += 1
            continue
        if got.status_code != 200:
            raise FetchError(f"GET /v1/receipts/{leaf.event_id}/proof: HTTP {got.status_code} {got.text[:200]}")
        _write(path.with_name(path.name.removesuffix(RECEIPT_SUFFIX) + PROOF_SUFFIX), got.text)
        fetched.proofs += 1
        if (size := _size_of(TlogProof.parse(got.text).checkpoint)) is not None:
            older.add(size)

    # After the proofs, so that no proof is newer than the checkpoint it is checked against.
    answer = _get(client, "/v1/log/checkpoint")
    if answer.status_code != 200:
        raise FetchError(f"GET /v1/log/checkpoint: HTTP {answer.status_code}")
    _write(folder / CHECKPOINT_FILE, answer.text)
    current = _size_of(answer.text)
    if current is None:
        raise FetchError("the API's checkpoint is not a checkpoint")

    for old in sorted(older):
        if old >= current or consistency_file(folder, old, current).exists():
            continue
        got = _get(client, "/v1/log/consistency", params={"from": old, "to": current})
        if got.status_code != 200:
            raise FetchError(f"GET /v1/log/consistency?from={old}&to={current}: HTTP {got.status_code}")
        _write(consistency_file(folder, old, current), got.text)
        fetched.consistency += 1
    return fetched
