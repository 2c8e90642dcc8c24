"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's signed tree head.

The note text is the origin line, the tree size in decimal (no leading zeroes), the base64
root hash, then optional non-empty extension lines. The log signs it with a key whose name
is the origin; a rotated log signs with the new key and old checkpoints keep verifying with
the old public key, because a verifier picks the key by (name, key ID).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from settlement_client.tlog.hashing import HASH_SIZE
from settlement_client.tlog.note import NoteError, VerifierKey, open_log_note

_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint that is malformed, from another log, or not signed by a trusted key."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("the origin is one non-empty line")
        if self.size < 0:
            raise CheckpointError("the tree size must not be negative")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"the root hash is {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("extension lines are single non-empty lines")

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has an origin, a tree size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise CheckpointError("the tree size is a decimal with no leading zeroes")
        try:
            root = base64.b64decode(root_text, validate=True)
        except ValueError as exc:
            raise CheckpointError("the root hash is not base64") from exc
        if base64.b64encode(root).decode() != root_text:
            raise CheckpointError("the root hash is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(data: str, origin: str, trusted: Iterable[VerifierKey]) -> Checkpoint:
    """Verify a signed checkpoint of the log `origin`. Only keys named `origin` count, so a
    key trusted for something else can never vouch for this log's tree."""
    try:
        text = open_log_note(data, origin, trusted)
    except NoteError as exc:
        raise CheckpointError(f"checkpoint signature: {exc}") from exc
    checkpoint = Checkpoint.parse_text(text)
    if checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint of {checkpoint.origin!r}, not of {origin!r}")
    return checkpoint
