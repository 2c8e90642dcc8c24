"""Secrets at rest: bank HMAC secrets are stored in PostgreSQL only as AES-256-GCM ciphertext
under a key the database never sees (SECRETS_ENCRYPTION_KEY, from the environment or a
Kubernetes Secret). A database dump or backup alone signs nothing.

Stored form: 0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag. The key id
(the first 4 bytes of SHA-256 of the derived key) says which key sealed a value, so the key
can be rotated: set the new key as SECRETS_ENCRYPTION_KEY and the old one as
SECRETS_ENCRYPTION_KEY_PREVIOUS, run `settlementctl secrets reencrypt`, then drop the old.
The associated data binds a ciphertext to its row and purpose ("hmac:<bank_id>"), so a
ciphertext copied onto another bank's row does not decrypt.

The configured key is any string of at least 32 characters (e.g. `openssl rand -hex 32`);
the AES key is derived from it with HKDF-SHA256.
"""

from __future__ import annotations

import hashlib
import os
import secrets as random

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ENV = "SECRETS_ENCRYPTION_KEY"
PREVIOUS_KEY_ENV = "SECRETS_ENCRYPTION_KEY_PREVIOUS"
MIN_KEY_CHARS = 32
_VERSION = b"\x01"
_INFO = b"settlement-tracker secrets at rest v1"


class SecretsKeyMissing(RuntimeError):
    """No usable SECRETS_ENCRYPTION_KEY: HMAC secrets can be neither stored nor checked."""


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt with the configured keys (wrong key or tampered row)."""


def _derive(material: str) -> bytes:
    if len(material) < MIN_KEY_CHARS:
        raise SecretsKeyMissing(f"{KEY_ENV} must be at least {MIN_KEY_CHARS} characters (e.g. openssl rand -hex 32)")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material.encode())


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


class SecretBox:
    """Seals and opens short secrets with the current key; opens with the previous key too."""

    def __init__(self, key: str, previous: str | None = None) -> None:
        current = _derive(key)
        self._current = (_key_id(current), AESGCM(current))
        self._by_id = {self._current[0]: self._current[1]}
        if previous:
            old = _derive(previous)
            self._by_id.setdefault(_key_id(old), AESGCM(old))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SecretBox:
        env = os.environ if environ is None else environ
        key = env.get(KEY_ENV)
        if not key:
            raise SecretsKeyMissing(f"{KEY_ENV} is not set; it encrypts the HMAC secrets stored in PostgreSQL")
        return cls(key, env.get(PREVIOUS_KEY_ENV) or None)

    @property
    def key_id(self) -> bytes:
        return self._current[0]

    def seal(self, plaintext: str, context: str) -> bytes:
        key_id, aead = self._current
        nonce = random.token_bytes(12)
        return _VERSION + key_id + nonce + aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, blob: bytes, context: str) -> str:
        blob = bytes(blob)
        if len(blob) < 1 + 4 + 12 + 16 or blob[:1] != _VERSION:
            raise SecretUnreadable("not a sealed secret")
        aead = self._by_id.get(blob[1:5])
        if aead is None:
            raise SecretUnreadable("sealed with a key that is not configured (SECRETS_ENCRYPTION_KEY[_PREVIOUS])")
        try:
            return aead.decrypt(blob[5:17], blob[17:], context.encode()).decode()
        except InvalidTag:
            raise SecretUnreadable("does not decrypt (tampered, or sealed for another row)") from None

    def sealed_with_current(self, blob: bytes) -> bool:
        return bytes(blob)[1:5] == self._current[0]


def hmac_context(bank_id: str) -> str:
    """The associated data of a bank's HMAC secret (current and previous alike)."""
    return f"hmac:{bank_id}"
