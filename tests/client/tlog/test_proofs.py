"""RFC 9162 verification: every honest proof verifies, and any change to a proof, a size, an
index or a root makes it fail (property tests over trees of up to 300 leaves)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_client.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash
from settlement_client.tlog.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofError,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from settlement_core.tlog.tree import MemorySubtrees, Tree


def _tree(n: int) -> tuple[list[bytes], MemorySubtrees]:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    return leaves, MemorySubtrees(leaves)


def _reference_root(hashes: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 2.1.1, recursion on lists: the definition, not the code."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_reference_root(hashes[:k]), _reference_root(hashes[k:]))


def test_known_hashes() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@given(st.integers(min_value=0, max_value=300))
@settings(max_examples=60, deadline=None)
def test_root_matches_the_rfc_definition(n: int) -> None:
    leaves, subtrees = _tree(n)
    assert Tree(subtrees, n).root() == _reference_root(leaves)


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_inclusion_verifies_and_any_change_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=300))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves, subtrees = _tree(size)
    tree = Tree(subtrees, size)
    proof = tree.inclusion(index)
    root = tree.root()
    verify_inclusion(proof, leaves[index], root)

    with pytest.raises(ProofError):  # another leaf at this index
        verify_inclusion(proof, leaf_hash(b"forged"), root)
    if size > 1:
        other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
        with pytest.raises(ProofError):  # the same proof claimed for another index
            verify_inclusion(InclusionProof(other, size, proof.hashes), leaves[index], root)
    if proof.hashes:
        position = data.draw(st.integers(min_value=0, max_value=len(proof.hashes) - 1))
        bad = list(proof.hashes)
        bad[position] = bytes(b ^ 1 for b in bad[position])
        with pytest.raises(ProofError):
            verify_inclusion(InclusionProof(index, size, tuple(bad)), leaves[index], root)
        with pytest.raises(ProofError):  # one hash short
            verify_inclusion(InclusionProof(index, size, proof.hashes[:-1]), leaves[index], root)
    with pytest.raises(ProofError):  # one hash too many
        verify_inclusion(InclusionProof(index, size, (*proof.hashes, root)), leaves[index], root)


def test_inclusion_outside_the_tree_fails() -> None:
    with pytest.raises(ProofError):
        root_from_inclusion(InclusionProof(3, 3, ()), leaf_hash(b"x"))
    with pytest.raises(ProofError):
        root_from_inclusion(InclusionProof(0, 0, ()), leaf_hash(b"x"))
    with pytest.raises(ProofError):
        InclusionProof(0, 2, (b"short",))


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_consistency_verifies_and_a_rewritten_history_fails(data: st.DataObject) -> None:
    new = data.draw(st.integers(min_value=1, max_value=300))
    old = data.draw(st.integers(min_value=1, max_value=new))
    leaves, subtrees = _tree(new)
    tree, old_root = Tree(subtrees, new), Tree(subtrees, old).root()
    proof = tree.consistency(old)
    verify_consistency(proof, old_root, tree.root())

    # rewrite one leaf of the old history, then grow honestly from there
    victim = data.draw(st.integers(min_value=0, max_value=old - 1))
    rewritten = list(leaves)
    rewritten[victim] = leaf_hash(b"rewritten")
    forged = Tree(MemorySubtrees(rewritten), new)
    with pytest.raises(ProofError):
        verify_consistency(forged.consistency(old), old_root, forged.root())
    if old < new:
        with pytest.raises(ProofError):  # the honest proof does not lead to the forged root
            verify_consistency(proof, old_root, forged.root())
        with pytest.raises(ProofError):  # nor from a wrong old root
            verify_consistency(proof, leaf_hash(b"other"), tree.root())
        with pytest.raises(ProofError):  # a truncated proof
            verify_consistency(ConsistencyProof(old, new, proof.hashes[:-1]), old_root, tree.root())
        with pytest.raises(ProofError):  # a shrinking tree
            verify_consistency(ConsistencyProof(new, old, proof.hashes), tree.root(), old_root)


def test_consistency_edge_sizes() -> None:
    leaves, subtrees = _tree(5)
    tree = Tree(subtrees, 5)
    verify_consistency(ConsistencyProof(0, 5, ()), EMPTY_ROOT, tree.root())
    verify_consistency(ConsistencyProof(5, 5, ()), tree.root(), tree.root())
    with pytest.raises(ProofError):  # same size, different root: a fork
        verify_consistency(ConsistencyProof(5, 5, ()), tree.root(), leaves[0])
    with pytest.raises(ProofError):  # same size must have an empty proof
        verify_consistency(ConsistencyProof(5, 5, (leaves[0],)), tree.root(), tree.root())
    with pytest.raises(ProofError):  # the empty tree's root is fixed
        verify_consistency(ConsistencyProof(0, 5, ()), leaves[0], tree.root())
    with pytest.raises(ProofError):
        verify_consistency(ConsistencyProof(2, 5, ()), Tree(subtrees, 2).root(), tree.root())


def test_tree_refuses_out_of_range() -> None:
    _, subtrees = _tree(4)
    with pytest.raises(ValueError, match="not in a tree"):
        Tree(subtrees, 4).inclusion(4)
    with pytest.raises(ValueError, match="no consistency proof"):
        Tree(subtrees, 4).consistency(5)
