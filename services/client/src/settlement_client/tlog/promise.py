"""The receipt promise: what ingest signs when it accepts an event, before the event is in
the log (RFC 9162's signed timestamp, in signed-note form).

The promise is a signed note, signed by the log's key (key name = origin), whose text is six
lines:

    settlement-tracker/receipt-promise@v1
    <origin>
    <base64 leaf hash>
    <salt, 32 lowercase hex digits>
    <received_at, RFC 3339>
    <maximum merge delay, whole seconds>

It says: the log `origin` will include the leaf with this hash at most `maximum merge delay`
after `received_at`. The first line keeps promises and checkpoints apart: a checkpoint's
second line is a decimal, so neither can be passed off as the other under the same key.

A receipt (what the bank keeps) is the leaf and the promise note as JSON:
`{"leaf": {...the five members...}, "promise": "<signed note>"}`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from settlement_client.tlog.hashing import HASH_SIZE
from settlement_client.tlog.leaf import Leaf, LeafError
from settlement_client.tlog.note import NoteError, VerifierKey, open_log_note

HEADER = "settlement-tracker/receipt-promise@v1"


class PromiseError(ValueError):
    """A promise or receipt that is malformed or does not verify."""


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PromiseError(f"received_at {text!r} is not an RFC 3339 time") from exc
    if value.tzinfo is None:
        raise PromiseError(f"received_at {text!r} has no UTC offset")
    return value


@dataclass(frozen=True, slots=True)
class Promise:
    origin: str
    leaf_hash: bytes
    salt: str
    received_at: str
    max_merge_delay_s: int

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise PromiseError("the origin is one non-empty line")
        if len(self.leaf_hash) != HASH_SIZE:
            raise PromiseError(f"the leaf hash is {HASH_SIZE} bytes")
        if not self.salt or "\n" in self.salt:
            raise PromiseError("the salt is one non-empty line")
        _parse_time(self.received_at)
        if self.max_merge_delay_s <= 0:
            raise PromiseError("the maximum merge delay is a positive number of seconds")

    @property
    def merge_deadline(self) -> datetime:
        """By this time the leaf must be in a signed checkpoint."""
        return _parse_time(self.received_at) + timedelta(seconds=self.max_merge_delay_s)

    def text(self) -> str:
        lines = [
            HEADER,
            self.origin,
            base64.b64encode(self.leaf_hash).decode(),
            self.salt,
            self.received_at,
            str(self.max_merge_delay_s),
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_text(cls, text: str) -> Promise:
        lines = text.split("\n")
        if len(lines) != 7 or lines[-1] != "" or lines[0] != HEADER:
            raise PromiseError(f"a promise is {HEADER!r} and five lines")
        _, origin, hash_text, salt, received_at, delay_text = lines[:6]
        try:
            leaf_hash = base64.b64decode(hash_text, validate=True)
        except ValueError as exc:
            raise PromiseError("the leaf hash is not base64") from exc
        if not delay_text.isascii() or not delay_text.isdigit() or delay_text[0] == "0":
            raise PromiseError("the maximum merge delay is a positive decimal")
        return cls(origin, leaf_hash, salt, received_at, int(delay_text))


@dataclass(frozen=True, slots=True)
class Receipt:
    """What ingest answers and the bank keeps: the leaf and the signed promise note."""

    leaf: Leaf
    promise: str

    def to_json(self) -> str:
        return json.dumps({"leaf": self.leaf.as_json(), "promise": self.promise}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Receipt:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise PromiseError(f"a receipt is JSON: {exc}") from exc
        if not isinstance(value, dict) or set(value) != {"leaf", "promise"} or not isinstance(value["promise"], str):
            raise PromiseError('a receipt is {"leaf": {...}, "promise": "<signed note>"}')
        try:
            leaf = Leaf.from_json(value["leaf"])
        except LeafError as exc:
            raise PromiseError(f"leaf: {exc}") from exc
        return cls(leaf, value["promise"])


def open_promise(data: str, origin: str, trusted: Iterable[VerifierKey]) -> Promise:
    """Verify a promise note signed by the log `origin` (only keys named `origin` count)."""
    try:
        text = open_log_note(data, origin, trusted)
    except NoteError as exc:
        raise PromiseError(f"promise signature: {exc}") from exc
    promise = Promise.parse_text(text)
    if promise.origin != origin:
        raise PromiseError(f"a promise of {promise.origin!r}, not of {origin!r}")
    return promise


def verify_receipt(receipt: Receipt, origin: str, trusted: Iterable[VerifierKey]) -> Promise:
    """The promise is the log's, and it is about exactly this leaf."""
    promise = open_promise(receipt.promise, origin, trusted)
    if promise.leaf_hash != receipt.leaf.leaf_hash():
        raise PromiseError("the promise is for another leaf (its leaf hash differs)")
    if promise.salt != receipt.leaf.salt or promise.received_at != receipt.leaf.received_at:
        raise PromiseError("the promise's salt or received_at differ from the leaf's")
    return promise
