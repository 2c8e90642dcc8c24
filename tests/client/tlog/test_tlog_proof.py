"""C2SP tlog-proof: the text form, and verification of a proof against its checkpoint."""

from __future__ import annotations

import base64

import pytest

from settlement_client.tlog.checkpoint import Checkpoint
from settlement_client.tlog.leaf import Leaf
from settlement_client.tlog.tlog_proof import HEADER, TlogProof, TlogProofError, verify_tlog_proof
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import sign_checkpoint
from settlement_core.tlog.tree import MemorySubtrees, Tree

ORIGIN = "settlement.example/log"


def _leaves(n: int) -> list[Leaf]:
    return [Leaf("BANK1", f"E-{i}", f"{i:064x}", "2026-12-07T12:00:00+00:00", f"{i + 1:032x}") for i in range(n)]


def _proof(keys: LogKeys, leaves: list[Leaf], index: int) -> str:
    tree = Tree(MemorySubtrees([leaf.leaf_hash() for leaf in leaves]), len(leaves))
    checkpoint = sign_checkpoint(keys, Checkpoint(ORIGIN, tree.size, tree.root()))
    path = tree.inclusion(index)
    return TlogProof(index, path.hashes, checkpoint, leaves[index].canonical_json()).encode()


def test_text_form_matches_the_spec_layout() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    leaves = _leaves(5)
    text = _proof(keys, leaves, 2)
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[1] == "extra " + base64.b64encode(leaves[2].canonical_json()).decode()
    assert lines[2] == "index 2"
    hashes = lines[3 : lines.index("")]
    assert [len(base64.b64decode(h)) for h in hashes] == [32, 32, 32]
    assert lines[lines.index("") + 1 : lines.index("") + 3] == [ORIGIN, "5"]
    assert TlogProof.parse(text).encode() == text


def test_every_leaf_verifies_and_a_changed_leaf_does_not() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    leaves = _leaves(9)
    for index in range(9):
        verified = verify_tlog_proof(_proof(keys, leaves, index), ORIGIN, keys.published)
        assert (verified.leaf, verified.index, verified.checkpoint.size) == (leaves[index], index, 9)
    proof = TlogProof.parse(_proof(keys, leaves, 4))
    other = Leaf("BANK1", "E-4", f"{99:064x}", "2026-12-07T12:00:00+00:00", f"{5:032x}")  # body changed
    with pytest.raises(TlogProofError, match="not in the tree"):
        verify_tlog_proof(
            TlogProof(4, proof.hashes, proof.checkpoint, other.canonical_json()).encode(), ORIGIN, keys.published
        )
    with pytest.raises(TlogProofError, match="not in the tree"):
        verify_tlog_proof(TlogProof(5, proof.hashes, proof.checkpoint, proof.extra).encode(), ORIGIN, keys.published)


def test_a_proof_under_an_untrusted_checkpoint_fails() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    impostor = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    with pytest.raises(TlogProofError, match="checkpoint signature"):
        verify_tlog_proof(_proof(impostor, _leaves(3), 0), ORIGIN, keys.published)


@pytest.mark.parametrize(
    "text",
    [
        "c2sp.org/tlog-proof@v2\nindex 0\n\ncp",
        "c2sp.org/tlog-proof@v1\nindex 01\n\ncp",
        "c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\ncp",
        "c2sp.org/tlog-proof@v1\n\ncp",
        "c2sp.org/tlog-proof@v1\nindex 0\nnot base64\n\ncp",
        "c2sp.org/tlog-proof@v1\nindex 0",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(TlogProofError):
        TlogProof.parse(text)
