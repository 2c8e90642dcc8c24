"""The event contract on the `settlement.events` topic.

Ingest validates a bank's JSON into a `SettlementEvent`, adds the authenticated bank id and
the receive time, and writes `encode(event)` keyed by bank id. The aggregator `decode`s it;
anything undecodable is an invalid message for the DLQ, never a retryable error.

`body_hash` covers exactly the fields the bank controls, so a retried request with the same
body is recognised as a duplicate and a different body under the same id as a conflict.

Categories: an event carries a set of 1..6 category codes (sorted). The canonical body
writes a one-element set as `"category": code`, exactly as before multi-category events
existed, so the body hash of every single-category event is unchanged; a larger set is
written `"categories": [codes]`. The topic payload follows the same rule.

Modules: `model` (the event, its envelope, the decode error), `canonical` (the canonical
body text and its hash, `CanonicalEvent` with both made once), `encoder` (topic payloads),
`decoder` (the strict decoder and the entry points), `fast_decoder` (the common message's
fast path, checked against the strict one by tests/settlement_core/events/test_fast_decoder.py),
`poll_decoder` (the aggregator's columnar decode of a whole poll with msgspec, checked the
same way by test_poll_decoder.py). Identifier syntax lives in `settlement_core.identifiers`.
"""

from settlement_core.events.canonical import CanonicalEvent, canonical_event
from settlement_core.events.decoder import decode, decode_message
from settlement_core.events.encoder import encode, encode_canonical, encode_many
from settlement_core.events.model import SCHEMA_VERSION, DecodedMessage, Envelope, InvalidEvent, SettlementEvent

__all__ = [
    "SCHEMA_VERSION",
    "CanonicalEvent",
    "DecodedMessage",
    "Envelope",
    "InvalidEvent",
    "SettlementEvent",
    "canonical_event",
    "decode",
    "decode_message",
    "encode",
    "encode_canonical",
    "encode_many",
]
