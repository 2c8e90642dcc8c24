"""The log's key set: the secret line round-trips, rotation keeps old keys published."""

from __future__ import annotations

import pytest

from settlement_client.tlog.note import VerifierKey
from settlement_core.tlog.keys import LogKeyError, LogKeys, SigningKey

ORIGIN = "settlement.example/log"


def test_secret_line_round_trip_and_repr_hides_it() -> None:
    key = SigningKey.generate(ORIGIN)
    line = key.encode()
    assert line.startswith(f"PRIVATE+KEY+{ORIGIN}+{key.verifier.key_id:08x}+")
    again = SigningKey.parse(line)
    assert again.verifier == key.verifier
    assert again.sign("t\n") == key.sign("t\n")  # Ed25519 is deterministic
    # The secret's base64 may itself hold "+": take all after PRIVATE+KEY+<origin>+<key id>+
    # (splitting on every "+" left a 1-2 character tail that a repr can contain by chance).
    secret = line.split("+", 4)[4]
    assert len(secret) >= 40
    assert secret not in repr(key)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("PRIVATE+KEY+", ""),
        lambda s: s.replace(ORIGIN, "other.example/log"),  # the hash no longer matches
        lambda s: s[:-4] + "!!!=",
    ],
)
def test_bad_secret_lines(mangle: object) -> None:
    line = SigningKey.generate(ORIGIN).encode()
    with pytest.raises(LogKeyError):
        SigningKey.parse(mangle(line))  # type: ignore[operator]


def test_load_and_rotate() -> None:
    first = SigningKey.generate(ORIGIN)
    keys = LogKeys.load(ORIGIN, first.encode())
    second = SigningKey.generate(ORIGIN)
    rotated = keys.rotated(second)
    assert rotated.published == (second.verifier, first.verifier)
    reloaded = LogKeys.load(ORIGIN, second.encode(), [first.verifier.encode(), ""])
    assert reloaded.published == rotated.published


def test_every_key_is_named_after_the_origin_and_ids_are_distinct() -> None:
    with pytest.raises(LogKeyError, match="named after the origin"):
        LogKeys(ORIGIN, SigningKey.generate("other.example/log"))
    key = SigningKey.generate(ORIGIN)
    with pytest.raises(LogKeyError, match="share a key ID"):
        LogKeys(ORIGIN, key, (key.verifier,))
    with pytest.raises(LogKeyError, match="named after the origin"):
        LogKeys(ORIGIN, key, (VerifierKey("other.example/log", bytes(32)),))


def test_key_strings_whose_base64_contains_plus() -> None:
    """Only the first two '+' separate fields; base64 data often contains '+' itself."""
    for _ in range(64):
        key = SigningKey.generate(ORIGIN)
        assert SigningKey.parse(key.encode()).verifier == key.verifier
        assert VerifierKey.parse(key.verifier.encode()) == key.verifier


def test_salts_are_derived_per_event_and_keyed() -> None:
    from settlement_core.tlog.signing import derive_salt

    key = bytes(range(32))
    salt = derive_salt(key, "BANK1", "E-1")
    assert len(salt) == 32
    assert salt == derive_salt(key, "BANK1", "E-1")
    assert salt != derive_salt(key, "BANK2", "E-1")
    assert salt != derive_salt(key, "BANK1", "E-2")
    assert derive_salt(key, "BANK1", "E-1\x00") != derive_salt(key, "BANK1\x00E", "-1\x00")
    assert salt != derive_salt(bytes(32), "BANK1", "E-1")
    with pytest.raises(ValueError, match="32 bytes"):
        derive_salt(b"short", "BANK1", "E-1")
