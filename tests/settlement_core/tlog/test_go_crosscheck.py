"""The Python log core against independent Go implementations: every root, inclusion proof
and consistency proof of transparency-dev/merkle v0.0.2 for the same leaves, and signed notes
in both directions with golang.org/x/mod/sumdb/note. Any disagreement fails.

Trees: 65 leaves give every size 1..65 (so 1, 2, every 2^k and 2^k + 1 up to 65) and every
pair of sizes up to 65 (2,145 inclusion and 2,145 consistency proofs); a tree of 1,025 leaves
adds the roots up to 2^10 + 1. The leaves are receipt leaves (RFC 8785 JSON), so the leaf
encoding is what is hashed on both sides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_client.tlog.checkpoint import Checkpoint, open_checkpoint
from settlement_client.tlog.leaf import Leaf
from settlement_client.tlog.note import NoteError, SignedNote, VerifierKey, open_note
from settlement_client.tlog.proofs import (
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)
from settlement_core.tlog.keys import SigningKey
from settlement_core.tlog.signing import sign_checkpoint
from settlement_core.tlog.tree import MemorySubtrees, Tree
from tests.settlement_core.tlog import gocheck

PAIRS_UP_TO = 65


@pytest.fixture(scope="module")
def binary() -> Path:
    return gocheck.build()


def _leaves(n: int) -> list[bytes]:
    return [
        Leaf(
            f"BANK{i % 7}", f"E-{i}", f"{i:064x}", f"2020-03-01T08:00:{i % 60:02d}+08:00", f"{i:032x}"
        ).canonical_json()
        for i in range(n)
    ]


def _hex(hashes: tuple[bytes, ...]) -> list[str]:
    return [h.hex() for h in hashes]


def test_every_root_and_proof_up_to_65_leaves_matches_go(binary: Path) -> None:
    data = _leaves(PAIRS_UP_TO)
    go = gocheck.ask(binary, {"op": "merkle", "leaves": [d.hex() for d in data], "pairs_up_to": PAIRS_UP_TO})
    assert "error" not in go, go
    leaf_hashes = [Leaf.from_canonical_json(d).leaf_hash() for d in data]
    assert [h.hex() for h in leaf_hashes] == go["leaf_hashes"]
    subtrees = MemorySubtrees(leaf_hashes)
    trees = [Tree(subtrees, size) for size in range(PAIRS_UP_TO + 1)]
    assert [t.root().hex() for t in trees] == go["roots"]

    assert len(go["inclusion"]) == PAIRS_UP_TO * (PAIRS_UP_TO + 1) // 2
    for item in go["inclusion"]:
        tree = trees[item["size"]]
        ours = tree.inclusion(item["index"])
        assert _hex(ours.hashes) == item["hashes"], f"inclusion {item['index']} in {item['size']}"
        # and our verifier accepts Go's proof (the same bytes, but through the parser path)
        theirs = InclusionProof(item["index"], item["size"], tuple(bytes.fromhex(h) for h in item["hashes"]))
        verify_inclusion(theirs, leaf_hashes[item["index"]], tree.root())

    assert len(go["consistency"]) == PAIRS_UP_TO * (PAIRS_UP_TO + 1) // 2
    for item in go["consistency"]:
        new = trees[item["size2"]]
        ours_c = new.consistency(item["size1"])
        assert _hex(ours_c.hashes) == item["hashes"], f"consistency {item['size1']} -> {item['size2']}"
        theirs_c = ConsistencyProof(item["size1"], item["size2"], tuple(bytes.fromhex(h) for h in item["hashes"]))
        verify_consistency(theirs_c, trees[item["size1"]].root(), new.root())


def test_roots_of_every_size_up_to_1025_match_go(binary: Path) -> None:
    data = _leaves(1025)
    go = gocheck.ask(binary, {"op": "merkle", "leaves": [d.hex() for d in data], "pairs_up_to": 0})
    subtrees = MemorySubtrees([Leaf.from_canonical_json(d).leaf_hash() for d in data])
    ours = [Tree(subtrees, size).root().hex() for size in range(len(data) + 1)]
    assert ours == go["roots"]
    assert go["inclusion"] == []


def test_go_verifies_our_signed_checkpoint(binary: Path) -> None:
    key = SigningKey.generate("settlement.example/log")
    checkpoint = Checkpoint("settlement.example/log", 3, bytes(range(32)))
    signed = sign_checkpoint_with(key, checkpoint)
    go = gocheck.ask(binary, {"op": "note-verify", "vkey": key.verifier.encode(), "note": signed})
    assert go == {"text": checkpoint.text()}


def test_go_rejects_our_note_under_another_key(binary: Path) -> None:
    key, other = SigningKey.generate("settlement.example/log"), SigningKey.generate("settlement.example/log")
    signed = sign_checkpoint_with(key, Checkpoint("settlement.example/log", 1, bytes(32)))
    go = gocheck.ask(binary, {"op": "note-verify", "vkey": other.verifier.encode(), "note": signed})
    assert "error" in go


def test_we_verify_gos_note_signed_with_our_key_encoding(binary: Path) -> None:
    """Go parses our PRIVATE+KEY line and signs; our verifier (key ID included) accepts it, and
    Go's signature line is byte for byte the one we produce for the same text (Ed25519 is
    deterministic)."""
    for size in range(16):  # 16 keys: their base64 forms include '+' and '/' several times
        key = SigningKey.generate("settlement.example/log")
        checkpoint = Checkpoint("settlement.example/log", size, bytes(range(32, 64)))
        go = gocheck.ask(binary, {"op": "note-sign", "skey": key.encode(), "text": checkpoint.text()})
        assert "error" not in go, go
        assert open_checkpoint(go["note"], "settlement.example/log", [key.verifier]) == checkpoint
        assert go["note"] == sign_checkpoint_with(key, checkpoint)
    with pytest.raises(NoteError):
        open_note(go["note"], [VerifierKey("settlement.example/log", SigningKey.generate("x").verifier.public_key)])


def sign_checkpoint_with(key: SigningKey, checkpoint: Checkpoint) -> str:
    from settlement_core.tlog.keys import LogKeys

    signed = sign_checkpoint(LogKeys(checkpoint.origin, key), checkpoint)
    assert SignedNote.parse(signed).text == checkpoint.text()
    return signed
