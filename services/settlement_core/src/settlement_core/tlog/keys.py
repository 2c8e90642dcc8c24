"""The log's Ed25519 signing keys: one active key signs, retired keys stay published.

A signing key is written as Go's note package writes one,
`PRIVATE+KEY+<name>+<key ID, 8 hex>+base64(0x01 || 32-byte seed)`, so it can be kept in a
Secret or an environment variable as one line. Every key of the log is named after the
log's origin; rotation adds a key with a new ID, and old checkpoints and promises keep
verifying with the old public key, which stays in `LogKeys.published`.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from settlement_client.tlog.note import ED25519_TYPE, NoteSignature, VerifierKey, key_id

_PREFIX = "PRIVATE+KEY+"
_SEED_BYTES = 32


class LogKeyError(ValueError):
    """A signing key or key set that cannot be used."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its note key name. Its repr never shows the secret."""

    name: str
    _private: Ed25519PrivateKey = field(repr=False, compare=False)

    @functools.cached_property
    def verifier(self) -> VerifierKey:
        # Cached: ingest signs one promise per accepted event with the same key.
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, public)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        key = cls(name, Ed25519PrivateKey.generate())
        key.verifier  # noqa: B018 - validates the name (no spaces, no '+')
        return key

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        text = text.strip()
        if not text.startswith(_PREFIX):
            raise LogKeyError("a signing key starts with PRIVATE+KEY+")
        parts = text[len(_PREFIX) :].split("+", 2)  # base64 may contain "+"
        if len(parts) != 3:
            raise LogKeyError("a signing key is PRIVATE+KEY+name+hash+base64")
        name, hash_text, data = parts
        try:
            raw = base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise LogKeyError("the signing key's data is not base64") from exc
        if len(raw) != 1 + _SEED_BYTES or raw[0] != ED25519_TYPE:
            raise LogKeyError("only Ed25519 signing keys (type 0x01, 32-byte seed) are supported")
        key = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if f"{key.verifier.key_id:08x}" != hash_text:
            raise LogKeyError("the signing key's hash does not match its name and key")
        return key

    def encode(self) -> str:
        """The one-line secret form; handle as a secret."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        data = base64.b64encode(bytes([ED25519_TYPE]) + seed).decode()
        return f"{_PREFIX}{self.name}+{self.verifier.key_id:08x}+{data}"

    def sign(self, text: str) -> NoteSignature:
        """The note signature of `text` (the note text, final newline included)."""
        verifier = self.verifier
        return NoteSignature(self.name, key_id(self.name, verifier.public_key), self._private.sign(text.encode()))


@dataclass(frozen=True)
class LogKeys:
    """The log's keys: `active` signs; `retired` public keys stay published for old notes."""

    origin: str
    active: SigningKey
    retired: tuple[VerifierKey, ...] = ()

    def __post_init__(self) -> None:
        names = {self.active.name, *(k.name for k in self.retired)}
        if names != {self.origin}:
            raise LogKeyError(f"every log key must be named after the origin {self.origin!r}")
        ids = [k.key_id for k in self.published]
        if len(set(ids)) != len(ids):
            raise LogKeyError("two log keys share a key ID")

    @property
    def published(self) -> tuple[VerifierKey, ...]:
        """Every public key a verifier should trust, the active one first."""
        return (self.active.verifier, *self.retired)

    @classmethod
    def load(cls, origin: str, active: str, retired: Iterable[str] = ()) -> LogKeys:
        """From the active key's secret line and the retired keys' verifier lines."""
        return cls(origin, SigningKey.parse(active), tuple(VerifierKey.parse(v) for v in retired if v.strip()))

    def rotated(self, new: SigningKey) -> LogKeys:
        """The key set after rotating to `new`: the old active key is retired, still published."""
        return LogKeys(self.origin, new, (self.active.verifier, *self.retired))
