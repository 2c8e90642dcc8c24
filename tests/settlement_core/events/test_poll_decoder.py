"""events.poll_decoder: the columnar decode of a poll accepts exactly what the strict
decoder accepts, with equal values, body hash and minor units, and every message it
declines gets the strict decoder's DLQ reason and detail."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settlement_core.events import DecodedMessage, Envelope, InvalidEvent, encode
from settlement_core.events.poll_decoder import PollDecoder, decode_poll
from tests.plan_catalogue import KNOWN
from tests.settlement_core.events.samples import (
    MUTATIONS,
    UETR,
    make_event,
    payload,
    random_event,
    raw,
    strict_message,
)
from tests.support.json_edges import edited, parser_edges

Outcome = DecodedMessage | tuple[str, str]


def poll_outcomes(messages: list[bytes | None]) -> list[Outcome]:
    return [(str(d.reason), d.detail) if isinstance(d, InvalidEvent) else d for d in decode_poll(messages, KNOWN)]


def assert_same(got: Outcome, expected: Outcome, message: bytes | None) -> None:
    """Equal outcomes, and for a decoded message equal texts too: Decimal and datetime
    equality would let 1.0 == 1.00 and two offsets of one instant pass."""
    assert got == expected, message
    if isinstance(got, DecodedMessage):
        assert isinstance(expected, DecodedMessage)
        assert got.body_hash == expected.body_hash == expected.envelope.event.body_hash()
        assert got.amount_minor == expected.amount_minor
        assert str(got.envelope.event.amount) == str(expected.envelope.event.amount)
        assert got.envelope.received_at.isoformat() == expected.envelope.received_at.isoformat()


def assert_poll_matches_strict(messages: list[bytes | None]) -> list[Outcome]:
    outcomes = poll_outcomes(messages)
    assert len(outcomes) == len(messages)
    for message, got in zip(messages, outcomes, strict=True):
        assert_same(got, strict_message(message), message)
    return outcomes


def common(message: bytes) -> DecodedMessage | None:
    """What the columnar path itself makes of a message (None: declined to the strict one)."""
    return PollDecoder(KNOWN).decode_common(message)


class TestPollDecodeMatchesStrict:
    def test_random_valid_events_take_the_columnar_path(self) -> None:
        rng = random.Random(23)
        zones = [UTC, timezone(timedelta(hours=8))]
        received = [
            datetime(2020, 1, 1, tzinfo=rng.choice(zones)) + timedelta(microseconds=rng.randrange(10**14))
            for _ in range(5)
        ]
        for _ in range(6):
            messages: list[bytes | None] = []
            for _ in range(500):
                event = random_event(rng)
                message = encode(Envelope(event, rng.choice(received)))
                # Only the common shape (one category, no correction fields) is the columnar
                # path's: the test would prove nothing if it declined everything to the strict path.
                plain = event.corrects is None and event.reason_code is None
                assert (common(message) is not None) == (len(event.categories) == 1 and plain)
                messages.append(message)
                # The same money as banks write it (fewer decimals than the currency's).
                data = json.loads(message)
                whole, _, fraction = data["amount"].partition(".")
                data["amount"] = whole + ("." + fraction.rstrip("0") if fraction.rstrip("0") else "")
                messages.append(raw(data))
            outcomes = assert_poll_matches_strict(messages)
            assert all(isinstance(o, DecodedMessage) for o in outcomes)

    def test_mutated_messages_in_mixed_polls(self) -> None:
        # Mutations share a poll with valid messages, so the per-poll memos (bank id,
        # country, received_at) meet good and bad values of the same field.
        rng = random.Random(32)
        fields = [*payload(), "categories", "extra"]
        for _ in range(60):
            messages: list[bytes | None] = []
            for _ in range(100):
                data = payload(uetr=rng.choice([None, str(UETR)]), reverses=rng.choice([None, "EV-0"]))
                if rng.random() < 0.8:
                    for _ in range(rng.randint(1, 3)):
                        name = rng.choice(fields)
                        if rng.random() < 0.2:
                            data.pop(name, None)
                        else:
                            data[name] = rng.choice(MUTATIONS)
                messages.append(raw(data))
            assert_poll_matches_strict(messages)

    def test_unusual_bytes_decide_like_the_strict_decoder(self) -> None:
        good = encode(Envelope(make_event(), datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC)))
        body = good[1:-1]
        messages: list[bytes | None] = [
            good,
            None,
            *parser_edges(good, extra="extra", other_category="retail"),
            b'{"categories":null,' + body + b"}",
            b'{"categories":["cross_border_rmb"],' + body + b"}",
            b"{" + body + b',"v":1.0}',
            b"{" + body + b',"v":true}',
            b"{" + body + b',"v":2}',
            b"{" + body + b',"v":null}',
            b"{" + body + b',"v":1e0}',
            b"{" + body + b',"uetr":"' + str(UETR).upper().encode() + b'"}',
            b"{" + body + b',"uetr":"{' + str(UETR).encode() + b'}"}',
            b"{" + body + b',"received_at":"2020-03-04T05:06:07"}',
            b"{" + body + b',"received_at":"2020-03-04T05:06:07\\u0000"}',
            b"{" + body + b',"bank_id":"bank\\u0000"}',
            b"{" + body + b',"counterparty_country":"H\\u004b"}',  # an escaped letter: still "HK"
            b"{" + body + b',"value_date":"2021-02-29"}',
            b"{" + body + b',"amount":"0"}',
            b"{" + body + b',"amount":"1' + b"0" * 30 + b'"}',
            b"{" + body + b',"reverses":"bad id"}',
        ]
        outcomes = assert_poll_matches_strict(messages)
        assert isinstance(outcomes[0], DecodedMessage)
        assert sum(isinstance(o, DecodedMessage) for o in outcomes) >= 5  # some are accepted

    @given(st.data())
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_byte_edits_decide_like_the_strict_decoder(self, data: Any) -> None:
        """A real message with a few byte-level edits (deletions, insertions, replacements):
        whatever comes out, the poll path and the strict one agree."""
        base = encode(
            Envelope(
                make_event(reverses=data.draw(st.sampled_from([None, "EV-0"]))),
                datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC),
            )
        )
        assert_poll_matches_strict([edited(data, base)])
