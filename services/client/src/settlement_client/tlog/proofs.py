"""Verify RFC 9162 inclusion (section 2.1.3.2) and consistency (section 2.1.4.2) proofs.

Both walk the proof with the same two counters as the RFC (`fn`, `sn`: the node's index and
the last index at the current level), so a proof is accepted exactly when the RFC's
algorithm accepts it: a proof one hash too long or too short fails, not just a wrong hash.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from settlement_client.tlog.hashing import EMPTY_ROOT, HASH_SIZE, node_hash


class ProofError(ValueError):
    """A proof that does not verify, or is malformed for its sizes."""


def _check_hashes(hashes: tuple[bytes, ...]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof hash of {len(h)} bytes, not {HASH_SIZE}")


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of leaf `index` in the tree of `tree_size` leaves, leaf side first."""

    index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.index < 0 or self.tree_size < 0:
            raise ProofError("index and tree size must not be negative")
        _check_hashes(self.hashes)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The proof that the tree of `new_size` leaves extends the tree of `old_size` leaves."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.old_size < 0 or self.new_size < 0:
            raise ProofError("tree sizes must not be negative")
        _check_hashes(self.hashes)


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def root_from_inclusion(proof: InclusionProof, leaf: bytes) -> bytes:
    """The root that `proof` and the leaf hash `leaf` imply (RFC 9162 2.1.3.2 steps 1-4)."""
    if proof.index >= proof.tree_size:
        raise ProofError(f"leaf index {proof.index} is outside a tree of {proof.tree_size}")
    fn, sn = proof.index, proof.tree_size - 1
    r = leaf
    for p in proof.hashes:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(proof: InclusionProof, leaf: bytes, root: bytes) -> None:
    """Raise ProofError unless leaf hash `leaf` is at `proof.index` of the tree with `root`."""
    if not _equal(root_from_inclusion(proof, leaf), root):
        raise ProofError(f"leaf {proof.index} is not in the tree of {proof.tree_size} with this root")


def verify_consistency(proof: ConsistencyProof, old_root: bytes, new_root: bytes) -> None:
    """Raise ProofError unless the tree (new_size, new_root) extends (old_size, old_root).

    Same size: the roots must be equal and the proof empty. From the empty tree: the old root
    must be the empty root and the proof empty (every tree extends the empty one).
    """
    old, new = proof.old_size, proof.new_size
    if old > new:
        raise ProofError(f"a tree of {new} cannot extend a tree of {old}")
    if old == new or old == 0:
        if proof.hashes:
            raise ProofError("a consistency proof from the empty or the same tree must be empty")
        expected = new_root if old == new else EMPTY_ROOT
        if not _equal(old_root, expected):
            raise ProofError(f"the roots at size {old} differ: history was rewritten")
        return
    path = list(proof.hashes)
    if not path:
        raise ProofError("empty consistency proof between different sizes")
    if old & (old - 1) == 0:  # step 2: the old tree is a perfect subtree, its root is the seed
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if not _equal(fr, old_root):
        raise ProofError(f"the tree of {new} does not contain the tree of {old} with this root: history was rewritten")
    if not _equal(sr, new_root):
        raise ProofError(
            f"the consistency proof does not lead to the root of the tree of {new}: "
            f"not proven to extend the tree of {old} (history rewritten, or a wrong proof)"
        )
