"""events.fast_decoder: the common message's fast path accepts exactly what the strict
decoder accepts, with equal values, body hash and minor units."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from settlement_core.events import DecodedMessage, Envelope, InvalidEvent, decode, decode_message, encode
from tests.plan_catalogue import KNOWN
from tests.settlement_core.events.samples import MUTATIONS, UETR, payload, random_event, raw, reason_of, strict_message


def fast_message(message: bytes) -> DecodedMessage | tuple[str, str]:
    try:
        return decode_message(message, KNOWN)
    except InvalidEvent as exc:
        return (str(exc.reason), exc.detail)


class TestDecodeFastPathMatchesStrict:
    """decode_message's fast path for the common message must accept exactly what the
    strict decoder accepts, with equal values, body hash and minor units; every message it
    declines is the strict decoder's (same reason and detail)."""

    def test_random_valid_events(self) -> None:
        rng = random.Random(16)
        zones = [UTC, timezone(timedelta(hours=8))]
        for _ in range(3000):
            event = random_event(rng)
            received = datetime(2020, 1, 1, tzinfo=rng.choice(zones)) + timedelta(microseconds=rng.randrange(10**14))
            message = encode(Envelope(event, received))
            expected = strict_message(message)
            assert isinstance(expected, DecodedMessage)
            assert fast_message(message) == expected
            # Non-canonical amount texts of the same money (fewer decimals) as banks send them.
            data = json.loads(message)
            whole, _, fraction = data["amount"].partition(".")
            data["amount"] = whole + ("." + fraction.rstrip("0") if fraction.rstrip("0") else "")
            assert fast_message(raw(data)) == strict_message(raw(data))

    def test_mutated_messages(self) -> None:
        rng = random.Random(61)
        fields = [*payload(), "categories", "extra"]
        for _ in range(6000):
            data = payload(uetr=rng.choice([None, str(UETR)]), reverses=rng.choice([None, "EV-0"]))
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(fields)
                if rng.random() < 0.2:
                    data.pop(name, None)
                else:
                    data[name] = rng.choice(MUTATIONS)
            message = raw(data)
            assert fast_message(message) == strict_message(message), data

    @pytest.mark.parametrize("digits", [19, 20, 24, 25, 400, 5000])
    def test_long_amounts_decide_like_the_strict_decoder(self, digits: int) -> None:
        # 5000 digits: past int()'s default limit on text conversion, not past Decimal's.
        message = raw(payload(amount="9" * digits + ".99"))
        assert fast_message(message) == strict_message(message)
        assert isinstance(fast_message(message), DecodedMessage)

    def test_value_date_cache_keeps_invalid_dates_out(self) -> None:
        assert reason_of(raw(payload(value_date="2021-02-29"))) == "schema"
        assert reason_of(raw(payload(value_date="2021-02-29"))) == "schema"
        assert decode(raw(payload(value_date="2020-02-29")), KNOWN).event.value_date == date(2020, 2, 29)
