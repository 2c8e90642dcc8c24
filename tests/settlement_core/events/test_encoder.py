"""events.encoder: topic payload round trip, and the hand-built JSON against json.dumps."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from settlement_core.categories import Direction
from settlement_core.events import SCHEMA_VERSION, Envelope, SettlementEvent, decode, encode, encode_many
from tests.plan_catalogue import CODES, KNOWN
from tests.settlement_core.events.samples import RECEIVED, make_event, random_event


class TestRoundTrip:
    @pytest.mark.parametrize(
        "event",
        [
            make_event(),
            make_event(uetr=None),
            make_event(reverses="EV-0000", direction=Direction.OUTBOUND),
            make_event(currency="JPY", amount=Decimal(1000)),
            make_event(currency="KWD", amount=Decimal("0.001")),
            make_event(currency="USD", amount=Decimal("600000000000.00"), categories=("offshore",)),
            *[make_event(categories=(c,)) for c in CODES],
            make_event(categories=("cross_border_ecommerce", "cross_border_rmb")),
            make_event(categories=tuple(sorted(CODES))),
        ],
    )
    def test_decode_inverts_encode(self, event: SettlementEvent) -> None:
        envelope = Envelope(event, RECEIVED)
        decoded = decode(encode(envelope), KNOWN)
        assert decoded == envelope
        assert decoded.event.body_hash() == event.body_hash()
        assert type(decoded.event.amount) is Decimal

    def test_amount_is_a_string_at_the_currency_scale(self) -> None:
        data = json.loads(encode(Envelope(make_event(amount=Decimal(10)), RECEIVED)))
        assert data["amount"] == "10.00"
        assert data["v"] == SCHEMA_VERSION
        assert data["bank_id"] == "bank-01"
        assert set(data) == {
            "v",
            "bank_id",
            "received_at",
            "event_id",
            "category",
            "amount",
            "currency",
            "value_date",
            "direction",
            "counterparty_country",
            "reverses",
            "uetr",
        }

    def test_received_at_keeps_its_offset(self) -> None:
        at = datetime(2020, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
        decoded = decode(encode(Envelope(make_event(), at)), KNOWN)
        assert decoded.received_at == at
        assert decoded.received_at.utcoffset() == timedelta(hours=8)

    def test_encoding_is_deterministic(self) -> None:
        assert encode(Envelope(make_event(), RECEIVED)) == encode(Envelope(make_event(), RECEIVED))

    def test_encode_refuses_a_naive_received_at(self) -> None:
        # decode() would send such a message to the DLQ; the producer must fail instead.
        with pytest.raises(ValueError, match="timezone"):
            encode(Envelope(make_event(), datetime(2020, 1, 1, 12, 0)))


class TestHandBuiltJsonMatchesJsonDumps:
    """The canonical text and the topic payload are assembled by hand for speed; they must
    stay byte-identical to the json.dumps forms the contract was defined with (a changed
    body text would turn every retry into a conflict)."""

    @staticmethod
    def reference_body(event: SettlementEvent) -> str:
        return json.dumps(event.body(), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def reference_payload(envelope: Envelope) -> bytes:
        payload = envelope.event.body()
        payload["bank_id"] = envelope.event.bank_id
        payload["received_at"] = envelope.received_at.isoformat()
        payload["v"] = SCHEMA_VERSION
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def test_random_events(self) -> None:
        rng = random.Random(20261130)
        zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
        for _ in range(3000):
            event = random_event(rng)
            received = datetime(2020, 1, 1, tzinfo=rng.choice(zones)) + timedelta(microseconds=rng.randrange(0, 10**14))
            canonical = self.reference_body(event)
            assert "{" + event.canonical_fields() + "}" == canonical
            assert event.body_hash() == hashlib.sha256(canonical.encode()).hexdigest()
            envelope = Envelope(event, received)
            assert encode(envelope) == self.reference_payload(envelope)
            [(payload, digest)] = encode_many([event], received)
            assert (payload, digest) == (encode(envelope), event.body_hash())
            assert decode(payload, KNOWN) == Envelope(
                dataclasses.replace(event, amount=Decimal(json.loads(payload)["amount"])), received
            )

    def test_characters_json_escapes(self) -> None:
        # The constructor does not validate: whatever a caller puts in must still come out
        # as the json.dumps text, escapes included.
        odd = make_event(event_id='a"b\\c\n\u00e9', bank_id='x"y', reverses="\u4e2d\t")
        assert "{" + odd.canonical_fields() + "}" == self.reference_body(odd)
        envelope = Envelope(odd, RECEIVED)
        assert encode(envelope) == self.reference_payload(envelope)

    def test_encode_many_refuses_a_naive_received_at(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            encode_many([make_event()], datetime(2020, 1, 1, 12, 0))
