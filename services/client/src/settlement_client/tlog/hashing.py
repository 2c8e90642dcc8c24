"""RFC 9162 section 2.1.1 hashing: SHA-256 with domain separation between leaves and nodes.

A leaf hash is SHA-256(0x00 || leaf data) and an interior node SHA-256(0x01 || left || right),
so no leaf can be passed off as an interior node (the second-preimage attack on plain Merkle
trees). The empty tree's root is SHA-256 of nothing.
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()
