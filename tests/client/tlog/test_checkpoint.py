"""C2SP tlog-checkpoint: exact text, strict parsing, origin binding and key rotation."""

from __future__ import annotations

import pytest

from settlement_client.tlog.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from settlement_client.tlog.note import SignedNote
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import sign_checkpoint

ORIGIN = "settlement.example/log"
CP = Checkpoint(ORIGIN, 20852163, bytes(range(32)))


def test_text_is_the_three_lines() -> None:
    assert CP.text() == f"{ORIGIN}\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert Checkpoint.parse_text(CP.text()) == CP
    with_ext = Checkpoint(ORIGIN, 0, bytes(32), ("ext one",))
    assert Checkpoint.parse_text(with_ext.text()) == with_ext


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n020\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # leading zero
        f"{ORIGIN}\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        f"{ORIGIN}\n20\nAAEC\n",  # not 32 bytes
        f"{ORIGIN}\n20\n",
        f"{ORIGIN}\n20\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",  # empty extension line
        f"{ORIGIN}\n20\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # no final newline
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse_text(text)


def test_open_binds_origin_and_key_name() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    signed = sign_checkpoint(keys, CP)
    assert open_checkpoint(signed, ORIGIN, keys.published) == CP
    with pytest.raises(CheckpointError, match="no signature from a trusted key"):
        open_checkpoint(signed, "other.example/log", keys.published)
    # a trusted key of another name signing a checkpoint that claims our origin does not count
    stranger = SigningKey.generate("other.example/log")
    text = CP.text()
    with pytest.raises(CheckpointError):
        open_checkpoint(SignedNote(text, (stranger.sign(text),)).encode(), ORIGIN, [stranger.verifier])


def test_old_checkpoints_verify_after_rotation() -> None:
    first = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    old = sign_checkpoint(first, CP)
    second = first.rotated(SigningKey.generate(ORIGIN))
    newer = Checkpoint(ORIGIN, CP.size + 1, bytes(32))
    new = sign_checkpoint(second, newer)
    assert second.published[1] == first.active.verifier
    assert open_checkpoint(old, ORIGIN, second.published) == CP
    assert open_checkpoint(new, ORIGIN, second.published) == newer
    with pytest.raises(CheckpointError):  # a verifier that only knows the first key
        open_checkpoint(new, ORIGIN, first.published)
