"""Topic payloads: the canonical body plus bank_id, received_at and the schema version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_str

from settlement_core.events.canonical import body_members, hash_of
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
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    received = ',"received_at":' + _json_str(received_at.isoformat())
    version = ',"v":' + str(SCHEMA_VERSION)
    out = []
    for event in events:
        amount, middle, tail, value_date = body_members(event)
        payload = f'{{{amount},"bank_id":{_json_str(event.bank_id)}{middle}{received}{tail}{version}{value_date}}}'
        out.append((payload.encode(), hash_of(amount + middle + tail + value_date)))
    return out
