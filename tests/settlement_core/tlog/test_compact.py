"""The integrator's right edge gives the same roots and subtrees as the RFC tree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_client.tlog.hashing import leaf_hash
from settlement_core.tlog.compact import CompactRange, edge_positions
from settlement_core.tlog.tree import MemorySubtrees, Tree


def test_edge_positions() -> None:
    assert edge_positions(0) == []
    assert edge_positions(1) == [(0, 0)]
    assert edge_positions(6) == [(2, 0), (1, 2)]
    assert edge_positions(13) == [(3, 0), (2, 2), (0, 12)]


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=60))
@settings(max_examples=80, deadline=None)
def test_appending_from_any_size_matches_the_tree(start: int, added: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(start + added)]
    subtrees = MemorySubtrees(leaves)
    edge = [subtrees.perfect(level, index) for level, index in edge_positions(start)]
    compact = CompactRange(start, edge)
    assert compact.root() == Tree(subtrees, start).root()
    for i in range(start, start + added):
        for node in compact.append(leaves[i]):
            assert node.hash == subtrees.perfect(node.level, node.index)
            assert (node.index + 1) << node.level == i + 1  # completed by this very leaf
        assert compact.root() == Tree(subtrees, i + 1).root()
    assert compact.size == start + added
