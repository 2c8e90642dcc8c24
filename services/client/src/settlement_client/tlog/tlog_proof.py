"""C2SP tlog-proof (https://c2sp.org/tlog-proof, `c2sp.org/tlog-proof@v1`): a self-contained,
offline-verifiable proof that an entry is in the log.

    c2sp.org/tlog-proof@v1
    extra <base64 of the leaf's RFC 8785 JSON>
    index <leaf index>
    <base64 audit path hash, leaf's sibling first>
    ...
    <blank line>
    <the signed checkpoint, verbatim>

The `extra` line is the spec's optional opaque data "necessary to reconstruct the record
hash": here the leaf itself, so the proof carries the bank, event, body digest, time and
salt. The spec says not to trust it implicitly: the verifier hashes it and checks the
inclusion path against the signed root, which authenticates it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from settlement_client.tlog.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from settlement_client.tlog.leaf import Leaf, LeafError
from settlement_client.tlog.note import VerifierKey
from settlement_client.tlog.proofs import InclusionProof, ProofError, verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"


class TlogProofError(ValueError):
    """A tlog-proof that is malformed or does not verify."""


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise TlogProofError(f"{what} is not base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise TlogProofError(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True, slots=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None

    def encode(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, data: str) -> TlogProof:
        head, sep, checkpoint = data.partition("\n\n")
        if not sep:
            raise TlogProofError("a tlog-proof has a blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise TlogProofError(f"a tlog-proof starts with {HEADER!r}")
        rest = lines[1:]
        extra = None
        if rest and rest[0].startswith("extra "):
            extra = _b64(rest[0][len("extra ") :], "extra data")
            rest = rest[1:]
        if not rest or not rest[0].startswith("index "):
            raise TlogProofError("a tlog-proof has an 'index N' line")
        index_text = rest[0][len("index ") :]
        if not index_text.isascii() or not index_text.isdigit() or (index_text != "0" and index_text[0] == "0"):
            raise TlogProofError("the index is a decimal with no leading zeroes")
        hashes = tuple(_b64(line, "a proof hash") for line in rest[1:])
        return cls(int(index_text), hashes, checkpoint, extra)

    def leaf(self) -> Leaf:
        """The leaf carried in `extra` (not yet authenticated: see `verify`)."""
        if self.extra is None:
            raise TlogProofError("this proof carries no leaf")
        try:
            return Leaf.from_canonical_json(self.extra)
        except LeafError as exc:
            raise TlogProofError(f"extra data: {exc}") from exc


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    leaf: Leaf
    index: int
    checkpoint: Checkpoint


def verify_tlog_proof(data: str, origin: str, trusted: Iterable[VerifierKey]) -> VerifiedInclusion:
    """Check the checkpoint's signature, then that the carried leaf is at `index` under its
    root. Returns what is now proven."""
    proof = TlogProof.parse(data)
    try:
        checkpoint = open_checkpoint(proof.checkpoint, origin, trusted)
    except CheckpointError as exc:
        raise TlogProofError(str(exc)) from exc
    leaf = proof.leaf()
    try:
        inclusion = InclusionProof(proof.index, checkpoint.size, proof.hashes)
        verify_inclusion(inclusion, leaf.leaf_hash(), checkpoint.root_hash)
    except ProofError as exc:
        raise TlogProofError(str(exc)) from exc
    return VerifiedInclusion(leaf, proof.index, checkpoint)
