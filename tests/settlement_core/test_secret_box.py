"""settlement_core.secret_box (pure): sealed secrets open only with the right key and row,
the previous key still opens them, and a missing or short key is refused."""

from __future__ import annotations

import pytest

from settlement_core.secret_box import SecretBox, SecretsKeyMissing, SecretUnreadable, hmac_context

KEY = "0123456789abcdef" * 4
OLD = "fedcba9876543210" * 4
SECRET = "a3" * 32


def test_seal_hides_the_secret_and_opens_back() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(SECRET, hmac_context("B1"))
    assert SECRET.encode() not in sealed
    assert bytes.fromhex(SECRET) not in sealed
    assert box.open(sealed, hmac_context("B1")) == SECRET
    # A fresh nonce each time: equal secrets do not give equal ciphertexts.
    assert box.seal(SECRET, hmac_context("B1")) != sealed


def test_another_row_or_key_or_a_flipped_bit_does_not_open() -> None:
    sealed = SecretBox(KEY).seal(SECRET, hmac_context("B1"))
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(sealed, hmac_context("B2"))
    with pytest.raises(SecretUnreadable):
        SecretBox(OLD).open(sealed, hmac_context("B1"))
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(flipped, hmac_context("B1"))
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(b"plain", hmac_context("B1"))


def test_key_rotation_previous_key_opens_and_current_reseals() -> None:
    old_sealed = SecretBox(OLD).seal(SECRET, hmac_context("B1"))
    rotated = SecretBox(KEY, previous=OLD)
    assert rotated.open(old_sealed, hmac_context("B1")) == SECRET
    assert not rotated.sealed_with_current(old_sealed)
    assert rotated.sealed_with_current(rotated.seal(SECRET, hmac_context("B1")))


def test_missing_or_short_key_is_refused() -> None:
    with pytest.raises(SecretsKeyMissing):
        SecretBox.from_env({})
    with pytest.raises(SecretsKeyMissing):
        SecretBox("short")
    assert SecretBox.from_env({"SECRETS_ENCRYPTION_KEY": KEY}).key_id == SecretBox(KEY).key_id
