"""RFC 9162 Merkle tree heads and proof generation (sections 2.1.1, 2.1.3.1, 2.1.4.1).

The tree is read through `Subtrees`, the hashes of perfect aligned subtrees (level L, index
i: leaves [i * 2^L, (i + 1) * 2^L)). Every range the RFC's recursions ask for is either such
a subtree or a right edge that splits into them, so a store that keeps perfect subtrees (as
C2SP tlog-tiles does) serves any root or proof in O(log n) reads; `MemorySubtrees` keeps them
in a dict for tests and small trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from settlement_client.tlog.hashing import EMPTY_ROOT, node_hash
from settlement_client.tlog.proofs import ConsistencyProof, InclusionProof


class Subtrees(Protocol):
    """Hashes of perfect subtrees of a log whose size is at least (index + 1) * 2^level."""

    def perfect(self, level: int, index: int) -> bytes: ...


class MemorySubtrees:
    """Perfect subtree hashes over leaf hashes in memory, each computed once."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes
        self._memo: dict[tuple[int, int], bytes] = {}

    def perfect(self, level: int, index: int) -> bytes:
        if level == 0:
            return self._leaves[index]
        key = (level, index)
        found = self._memo.get(key)
        if found is None:
            found = node_hash(self.perfect(level - 1, 2 * index), self.perfect(level - 1, 2 * index + 1))
            self._memo[key] = found
        return found


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): the RFC's k."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """The log's tree at `size` leaves."""

    def __init__(self, subtrees: Subtrees, size: int) -> None:
        if size < 0:
            raise ValueError("a tree size is not negative")
        self._subtrees = subtrees
        self.size = size

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for 0 <= start < end <= size."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._subtrees.perfect(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self.range_hash(start, start + k), self.range_hash(start + k, end))

    def root(self) -> bytes:
        return EMPTY_ROOT if self.size == 0 else self.range_hash(0, self.size)

    def inclusion(self, index: int) -> InclusionProof:
        """PATH(index, D[size]), RFC 9162 2.1.3.1."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        path: list[bytes] = []
        start, end, m = 0, self.size, index
        # The RFC's recursion, unrolled: each step adds one hash, appended leaf-side last, so
        # the list is reversed at the end to read leaf's sibling first.
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self.range_hash(start + k, end))
                end = start + k
            else:
                path.append(self.range_hash(start, start + k))
                start, m = start + k, m - k
        path.reverse()
        return InclusionProof(index, self.size, tuple(path))

    def consistency(self, old_size: int) -> ConsistencyProof:
        """PROOF(old_size, D[size]) = SUBPROOF(old_size, D[size], true), RFC 9162 2.1.4.1."""
        if not 0 <= old_size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {self.size}")
        if old_size in (0, self.size):
            return ConsistencyProof(old_size, self.size, ())
        path: list[bytes] = []
        start, end, m, whole = 0, self.size, old_size, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self.range_hash(start + k, end))
                end = start + k
            else:
                path.append(self.range_hash(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
            path.append(self.range_hash(start, end))
        path.reverse()
        return ConsistencyProof(old_size, self.size, tuple(path))
