"""Events shared by the tests of settlement_core.events: a sample event, its payload with
fields changed or deleted, random events, the DLQ reason of a message, what the strict
decoder makes of a message (the reference of the fast paths) and field mutations."""

from __future__ import annotations

import dataclasses
import json
import random
import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from settlement_core.categories import Direction
from settlement_core.events import DecodedMessage, Envelope, InvalidEvent, SettlementEvent, decode, encode
from settlement_core.events.decoder import decode_strict, json_object
from settlement_core.identifiers import MAX_EVENT_ID_LENGTH, UNKNOWN_COUNTRY
from settlement_core.money import MINOR_UNITS, to_minor
from tests.plan_catalogue import CODES, KNOWN

UETR = UUID("eb6305c9-1f7f-49de-aed0-16487c27b42d")
RECEIVED = datetime(2020, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def make_event(**changes: Any) -> SettlementEvent:
    base = SettlementEvent(
        bank_id="bank-01",
        event_id="EV:2020.03_04-0001",
        categories=("cross_border_rmb",),
        amount=Decimal("1234.56"),
        currency="CNY",
        value_date=date(2020, 3, 4),
        direction=Direction.INBOUND,
        counterparty_country="HK",
        reverses=None,
        uetr=UETR,
    )
    return dataclasses.replace(base, **changes)


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(encode(Envelope(make_event(), RECEIVED)))
    for key, value in changes.items():
        if value is DELETE:
            del data[key]
        else:
            data[key] = value
    return data


DELETE = object()


def raw(data: Any) -> bytes:
    return json.dumps(data).encode()


def random_event(rng: random.Random) -> SettlementEvent:
    """A random valid event; one in five also a correction, or a reversal with a reason."""
    event = _random_plain_event(rng)
    if rng.random() >= 0.2:
        return event
    text = rng.choice([None, "wrong amount", 'quote " backslash \\ 中文 é'])
    if event.reverses is not None:
        return dataclasses.replace(event, reason_code="DUPLICATE", reason_text=text)
    corrects = "".join(rng.choices(string.ascii_letters + string.digits + "._:-%", k=rng.randint(1, 64)))
    return dataclasses.replace(
        event, corrects=corrects, reason_code=rng.choice(["WRONG_AMOUNT", "OTHER"]), reason_text=text
    )


def _random_plain_event(rng: random.Random) -> SettlementEvent:
    currency = rng.choice(sorted(MINOR_UNITS))
    exponent = MINOR_UNITS[currency]
    units = rng.choice([1, 10**exponent, rng.randrange(1, 10**18)])
    # "%": ids made from ISO 20022 references (percent-encoded), up to MAX_EVENT_ID_LENGTH.
    event_chars = string.ascii_letters + string.digits + "._:-%"
    id_length = rng.choice([64, MAX_EVENT_ID_LENGTH])
    return SettlementEvent(
        bank_id=rng.choice(["b", "bank-01", "BANK.X_9"]),
        event_id="".join(rng.choices(event_chars, k=rng.randint(1, id_length))),
        categories=tuple(sorted(rng.sample(CODES, rng.randint(1, len(CODES))))),
        # Several textual forms of the same amount (trailing zeros, exponent form).
        amount=rng.choice(
            [
                Decimal(units).scaleb(-exponent),
                Decimal(units * 10).scaleb(-exponent - 1),
                Decimal(units) * Decimal(10) ** -exponent,
            ]
        ),
        currency=currency,
        value_date=date(2015, 1, 1) + timedelta(days=rng.randrange(0, 5000)),
        direction=rng.choice(list(Direction)),
        counterparty_country=rng.choice(["HK", "SG", "US", "CN", "GB", UNKNOWN_COUNTRY]),
        reverses=rng.choice([None, "".join(rng.choices(event_chars, k=rng.randint(1, id_length)))]),
        uetr=rng.choice([None, UUID(int=rng.getrandbits(128))]),
    )


def reason_of(message: bytes | None) -> str:
    with pytest.raises(InvalidEvent) as info:
        decode(message, KNOWN)
    assert str(info.value).startswith(info.value.reason + ": ")
    assert info.value.detail
    return info.value.reason


def strict_message(message: bytes | None) -> DecodedMessage | tuple[str, str]:
    """What the strict reference makes of a message: the decoded message, or (reason, detail)."""
    try:
        envelope = decode_strict(json_object(message), KNOWN)
    except InvalidEvent as exc:
        return (str(exc.reason), exc.detail)
    event = envelope.event
    return DecodedMessage(envelope, event.body_hash(), to_minor(event.amount, event.currency))


# Values a mutated message may carry in place of a field: well-formed, malformed, other types.
MUTATIONS: list[Any] = [
    None,
    "",
    0,
    1.5,
    True,
    [],
    ["offshore"],
    {},
    "offshore",
    "retail",
    "CNY",
    "JPY",
    "KWD",
    "cny",
    "1234.56",
    "1234.567",
    "1000",
    "0.00",
    "0.001",
    "007",
    "1e3",
    "2020-02-29",
    "2021-02-29",
    "20200304",
    "inbound",
    "OUTBOUND",
    "HK",
    "hk",
    "EV-1",
    "bad id",
    "x" * 65,
    "x" * MAX_EVENT_ID_LENGTH,
    "x" * (MAX_EVENT_ID_LENGTH + 1),
    "ABC%2FABC-13679%2F2015-09-15",
    "ZZ",
    str(UETR),
    "{" + str(UETR) + "}",
    "2020-03-04T05:06:07+08:00",
    "2020-03-04T05:06:07",
    "2020-03-04T05:06:07Z",
]
