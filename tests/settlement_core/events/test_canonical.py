"""events.canonical: a CanonicalEvent carries exactly the event's canonical text and body
hash, and encode_canonical writes the bytes encode_many writes for its events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from settlement_core.events import canonical_event, encode_canonical, encode_many
from settlement_core.money import format_amount
from tests.settlement_core.events.samples import make_event, random_event


def test_canonical_event_is_the_events_text_and_hash() -> None:
    rng = random.Random(2022)
    zones = [UTC, timezone(timedelta(hours=8))]
    for _ in range(2000):
        events = [random_event(rng) for _ in range(rng.randint(1, 4))]
        received = datetime(2020, 1, 1, tzinfo=rng.choice(zones)) + timedelta(microseconds=rng.randrange(10**14))
        # With and without the caller's amount text (it equals format_amount by contract).
        bodies = [
            canonical_event(
                e,
                rng.choice([None, format_amount(e.amount, e.currency)]),
                uetr_text=rng.choice([None, None if e.uetr is None else str(e.uetr)]),
            )
            for e in events
        ]
        for event, body in zip(events, bodies, strict=True):
            assert body.event is event
            assert "".join(body.members) == event.canonical_fields()
            assert body.body_hash == event.body_hash()
        expected = encode_many(events, received)
        assert encode_canonical(bodies, received) == [payload for payload, _ in expected]
        assert [b.body_hash for b in bodies] == [digest for _, digest in expected]


def test_encode_canonical_refuses_a_naive_received_at() -> None:
    with pytest.raises(ValueError, match="timezone"):
        encode_canonical([canonical_event(make_event())], datetime(2020, 1, 1, 12, 0))
