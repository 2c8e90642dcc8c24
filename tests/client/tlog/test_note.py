"""C2SP signed-note: key IDs, key strings, parsing and the spec's verification rules."""

from __future__ import annotations

import base64
import hashlib

import pytest

from settlement_client.tlog.note import (
    NoteError,
    NoteSignature,
    SignedNote,
    VerifierKey,
    key_id,
    open_log_note,
    open_note,
)
from settlement_core.tlog.keys import SigningKey

NAME = "settlement.example/log"


def test_key_id_is_the_spec_hash() -> None:
    public = bytes(range(32))
    expected = hashlib.sha256(NAME.encode() + b"\n\x01" + public).digest()[:4]
    assert key_id(NAME, public) == int.from_bytes(expected, "big")


def test_verifier_key_round_trip_and_tamper() -> None:
    key = SigningKey.generate(NAME).verifier
    text = key.encode()
    name, hash_text, data = text.split("+", 2)
    assert name == NAME
    assert len(hash_text) == 8
    assert base64.b64decode(data)[0] == 1
    assert VerifierKey.parse(text) == key
    with pytest.raises(NoteError, match="hash does not match"):
        VerifierKey.parse(f"{name}+{int(hash_text, 16) ^ 1:08x}+{data}")
    with pytest.raises(NoteError, match="hash does not match"):
        VerifierKey.parse(f"other.example+{hash_text}+{data}")
    with pytest.raises(NoteError):
        VerifierKey.parse(f"{name}+{hash_text}")


@pytest.mark.parametrize("name", ["", "has space", "a+b"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(NoteError):
        VerifierKey(name, bytes(32))


def _signed(text: str, *keys: SigningKey) -> str:
    return SignedNote(text, tuple(k.sign(text) for k in keys)).encode()


def test_sign_and_open() -> None:
    key = SigningKey.generate(NAME)
    note = _signed("hello\n\nworld\n", key)
    assert note.startswith("hello\n\nworld\n\n\u2014 settlement.example/log ")
    assert open_note(note, [key.verifier]) == "hello\n\nworld\n"  # the last blank line splits


def test_unknown_signatures_are_ignored_but_one_trusted_is_needed() -> None:
    key, witness = SigningKey.generate(NAME), SigningKey.generate("witness.example")
    note = _signed("text\n", witness, key)
    assert open_note(note, [key.verifier]) == "text\n"
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        open_note(_signed("text\n", witness), [key.verifier])
    # same name, another key: the ID differs, so it is an unknown key, not a failed one
    impostor = SigningKey.generate(NAME)
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        open_note(_signed("text\n", impostor), [key.verifier])


def test_a_failing_known_signature_rejects_the_note() -> None:
    key = SigningKey.generate(NAME)
    good = key.sign("text\n")
    forged = NoteSignature(good.name, good.key_id, key.sign("other\n").signature)
    note = SignedNote("text\n", (forged,)).encode()
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note, [key.verifier])
    # even next to a good one
    note = SignedNote("text\n", (good, forged)).encode()
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note, [key.verifier])


def test_changed_text_fails() -> None:
    key = SigningKey.generate(NAME)
    note = _signed("size 5\n", key)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("size 5", "size 6"), [key.verifier])


@pytest.mark.parametrize(
    "data",
    [
        "no newline at the end",
        "text\n— a b\n",  # no blank line
        "text\n\n",  # no signatures
        "text\n\n- a AAAAAAA=\n",  # hyphen, not em dash
        "text\n\n— a not-base64!\n",
        "te\x07xt\n\n— a AAAAAAA=\n",  # control character
    ],
)
def test_malformed_notes(data: str) -> None:
    with pytest.raises(NoteError):
        SignedNote.parse(data)


def test_too_many_signatures() -> None:
    key = SigningKey.generate(NAME)
    sig = key.sign("t\n")
    with pytest.raises(NoteError, match="more than"):
        SignedNote.parse("t\n\n" + sig.line() * 65)


def test_a_log_note_counts_only_keys_named_after_the_log() -> None:
    """A trusted witness key signs the same text: open_note takes it, open_log_note does not,
    because a key trusted for something else must never vouch for the log's own notes."""
    log, witness = SigningKey.generate(NAME), SigningKey.generate("witness.example/w1")
    by_witness = _signed("text\n", witness)
    assert open_note(by_witness, [log.verifier, witness.verifier]) == "text\n"
    with pytest.raises(NoteError):
        open_log_note(by_witness, NAME, [log.verifier, witness.verifier])
    assert open_log_note(_signed("text\n", log), NAME, [log.verifier, witness.verifier]) == "text\n"
