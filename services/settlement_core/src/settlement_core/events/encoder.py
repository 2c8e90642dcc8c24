"""Topic payloads: the canonical body plus bank_id, received_at and the schema version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_str

from settlement_core.events.canonical import CanonicalEvent, body_members, hash_of
from settlement_core.events.model import SCHEMA_VERSION, Envelope, SettlementEvent


def encode(envelope: Envelope) -> bytes:
    """Serialise for the topic; refuses what `decode` would reject (a naive received_at)."""
    [(payload, _)] = encode_many([envelope.event], envelope.received_at)
    return payload


def encode_many(events: Iterable[SettlementEvent], received_at: datetime) -> list[tuple[bytes, str]]:
    """(topic payload, body hash) of events received together, from one canonical text
    per event (intake needs both for every event).

    The payload is the body plus bank_id, received_at and v, keys sorted: the same bytes as
    `json.dumps(payload, sort_keys=True, separators=(",", ":"))`.
    """
    received = _received_member(received_at)
    out = []
    for event in events:
        members = body_members(event)
        out.append((_payload(event.bank_id, members, received), hash_of("".join(members))))
    return out


def encode_canonical(events: Iterable[CanonicalEvent], received_at: datetime) -> list[bytes]:
    """The topic payloads of events whose canonical text is already made: the same bytes
    as `encode_many` of their events, without making the text a second time."""
    received = _received_member(received_at)
    return [_payload(c.event.bank_id, c.members, received) for c in events]


def _received_member(received_at: datetime) -> str:
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    return ',"received_at":' + _json_str(received_at.isoformat())


_VERSION = ',"v":' + str(SCHEMA_VERSION)


def _payload(bank_id: str, members: tuple[str, str, str, str], received: str) -> bytes:
    """The body's members with bank_id, received_at and v where they sort among them."""
    amount, middle, tail, value_date = members
    return f'{{{amount},"bank_id":{_json_str(bank_id)}{middle}{received}{tail}{_VERSION}{value_date}}}'.encode()
