"""The right edge of the tree (a compact range): all the integrator needs to append leaves
and compute the new root without reading the whole tree.

For a tree of `size` leaves the right edge is one perfect subtree per set bit of `size`,
largest first. Appending a leaf pushes it as a level-0 subtree and merges equal levels, like
binary addition; each merge completes a perfect subtree, which is returned so the store can
keep it (tree.Subtrees reads them back to serve proofs).
"""

from __future__ import annotations

from dataclasses import dataclass

from settlement_client.tlog.hashing import EMPTY_ROOT, node_hash


@dataclass(frozen=True, slots=True)
class Node:
    """A perfect subtree: leaves [index * 2^level, (index + 1) * 2^level)."""

    level: int
    index: int
    hash: bytes


def edge_positions(size: int) -> list[tuple[int, int]]:
    """(level, index) of the right-edge subtrees of a tree of `size` leaves, largest first."""
    positions = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            positions.append((level, start >> level))
            start += 1 << level
    return positions


class CompactRange:
    def __init__(self, size: int, edge: list[bytes]) -> None:
        """`edge`: the hashes at `edge_positions(size)`, in that order."""
        positions = edge_positions(size)
        if len(edge) != len(positions):
            raise ValueError(f"a tree of {size} has {len(positions)} right-edge subtrees, not {len(edge)}")
        self.size = size
        self._edge = [Node(level, index, h) for (level, index), h in zip(positions, edge, strict=True)]

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf; the perfect subtrees of level >= 1 this completes."""
        self._edge.append(Node(0, self.size, leaf_hash))
        self.size += 1
        completed = []
        while len(self._edge) >= 2 and self._edge[-1].level == self._edge[-2].level:
            right = self._edge.pop()
            left = self._edge.pop()
            merged = Node(left.level + 1, left.index // 2, node_hash(left.hash, right.hash))
            self._edge.append(merged)
            completed.append(merged)
        return completed

    def root(self) -> bytes:
        if not self._edge:
            return EMPTY_ROOT
        root = self._edge[-1].hash
        for node in reversed(self._edge[:-1]):
            root = node_hash(node.hash, root)
        return root
