"""events: topic payload round trip, body_hash, strict decode with DLQ reasons."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from settlement_core.categories import Direction
from settlement_core.events import (
    MAX_EVENT_ID_LENGTH,
    SCHEMA_VERSION,
    UNKNOWN_COUNTRY,
    DecodedMessage,
    Envelope,
    InvalidEvent,
    SettlementEvent,
    _decode_strict,
    _json_object,
    decode,
    decode_message,
    encode,
    encode_many,
)
from settlement_core.money import MINOR_UNITS, AmountError, to_minor
from settlement_core.vocabulary import DlqReason
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
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    return data


_DELETE = object()


def raw(data: Any) -> bytes:
    return json.dumps(data).encode()


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


class TestBodyHash:
    def test_stable_and_hex_sha256(self) -> None:
        digest = make_event().body_hash()
        assert digest == make_event().body_hash()
        assert len(digest) == 64
        int(digest, 16)

    def test_known_value(self) -> None:
        # Pins the canonical form: changing it would turn every retry into a conflict.
        import hashlib

        canonical = (
            '{"amount":"1234.56","category":"cross_border_rmb","counterparty_country":"HK",'
            '"currency":"CNY","direction":"inbound","event_id":"EV:2020.03_04-0001",'
            '"reverses":null,"uetr":"eb6305c9-1f7f-49de-aed0-16487c27b42d",'
            '"value_date":"2020-03-04"}'
        )
        assert make_event().body_hash() == hashlib.sha256(canonical.encode()).hexdigest()

    @pytest.mark.parametrize(
        ("currency", "a", "b"),
        [
            ("CNY", "10", "10.00"),
            ("CNY", "10.5", "10.50"),
            ("CNY", "1E+1", "10"),
            ("JPY", "1000", "1E+3"),
            ("KWD", "1.5", "1.500"),
        ],
    )
    def test_same_money_hashes_the_same(self, currency: str, a: str, b: str) -> None:
        first = make_event(currency=currency, amount=Decimal(a))
        second = make_event(currency=currency, amount=Decimal(b))
        assert first.body_hash() == second.body_hash()

    def test_bank_id_is_not_part_of_the_body(self) -> None:
        # Duplicates are keyed by (bank_id, event_id); the body is what the bank sent.
        assert make_event(bank_id="a").body_hash() == make_event(bank_id="b").body_hash()

    @pytest.mark.parametrize(
        "changes",
        [
            {"event_id": "EV-2"},
            {"categories": ("offshore",)},
            {"categories": ("cross_border_rmb", "offshore")},
            {"amount": Decimal("1234.57")},
            {"currency": "HKD"},
            {"value_date": date(2020, 3, 5)},
            {"direction": Direction.OUTBOUND},
            {"counterparty_country": "SG"},
            {"reverses": "EV-0"},
            {"uetr": None},
            {"uetr": UUID("eb6305c9-1f7f-49de-aed0-16487c27b42e")},
        ],
    )
    def test_every_bank_field_changes_the_hash(self, changes: dict[str, Any]) -> None:
        assert make_event(**changes).body_hash() != make_event().body_hash()

    def test_sub_minor_amount_is_not_silently_rounded(self) -> None:
        with pytest.raises(AmountError):
            make_event(amount=Decimal("10.005")).body_hash()


def random_event(rng: random.Random) -> SettlementEvent:
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


def reason_of(message: bytes | None) -> str:
    with pytest.raises(InvalidEvent) as info:
        decode(message, KNOWN)
    assert str(info.value).startswith(info.value.reason + ": ")
    assert info.value.detail
    return info.value.reason


class TestDecodeUndecodable:
    @pytest.mark.parametrize(
        "message",
        [
            None,  # tombstone
            b"",
            b"not json",
            b"{",
            b'{"v": 1,}',
            b"\xff\xfe\xfa",  # not UTF-8
            b"\x80abc",
            b"[" * 100_000,  # nesting deep enough to exhaust the recursion limit
            b'{"v": ' + b"1" * 5000 + b"}",  # int longer than Python's 4300-digit limit
            b"[]",
            b"[1, 2]",
            b'"a string"',
            b"1",
            b"null",
            b"true",
        ],
    )
    def test_reason_is_undecodable(self, message: bytes | None) -> None:
        assert reason_of(message) == "undecodable"


class TestDecodeSchema:
    @pytest.mark.parametrize(
        "field",
        [
            "bank_id",
            "event_id",
            "category",
            "amount",
            "currency",
            "value_date",
            "direction",
            "counterparty_country",
            "received_at",
            "v",
        ],
    )
    def test_missing_required_field(self, field: str) -> None:
        assert reason_of(raw(payload(**{field: _DELETE}))) == "schema"

    @pytest.mark.parametrize("field", ["reverses", "uetr"])
    def test_optional_fields_may_be_absent(self, field: str) -> None:
        envelope = decode(raw(payload(**{field: _DELETE})), KNOWN)
        assert getattr(envelope.event, field) is None

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("v", 2),
            ("v", 0),
            ("v", "1"),
            ("v", True),
            ("v", 1.0),
            ("v", None),
            ("bank_id", ""),
            ("bank_id", "a" * 33),
            ("bank_id", "bank 1"),
            ("bank_id", "b|1"),
            ("bank_id", "bank:1"),
            ("bank_id", "bank\n"),
            ("bank_id", 123),
            ("bank_id", None),
            ("event_id", ""),
            ("event_id", "e" * (MAX_EVENT_ID_LENGTH + 1)),
            ("event_id", "ABC/ABC-13679"),  # an ISO reference must arrive percent-encoded
            ("event_id", "ev/1"),
            ("event_id", "ev\n"),
            ("event_id", "é"),
            ("event_id", 42),
            ("event_id", ["EV"]),
            ("category", "retail"),
            ("category", "CROSS_BORDER_RMB"),
            ("category", 1),
            ("category", None),
            ("categories", []),
            ("categories", "offshore"),
            ("categories", ["offshore", "offshore"]),
            ("categories", ["offshore", "retail"]),
            ("categories", [*CODES, "offshore"]),
            ("currency", "XYZ"),
            ("currency", "cny"),
            ("currency", "CNY "),
            ("currency", 156),
            ("amount", 1234.56),
            ("amount", 1234),
            ("amount", "0"),
            ("amount", "0.00"),
            ("amount", "-1.00"),
            ("amount", "+1.00"),
            ("amount", "1e3"),
            ("amount", "NaN"),
            ("amount", "Infinity"),
            ("amount", " 1.00"),
            ("amount", "1_000.00"),
            ("amount", "1234.567"),
            ("amount", ""),
            ("amount", None),
            ("amount", ["1"]),
            ("value_date", "2020-02-30"),
            ("value_date", "2020/03/04"),
            ("value_date", "20200304"),
            ("value_date", "2020-W10-3"),
            ("value_date", "2020-03-04T00:00:00"),
            ("value_date", 20200304),
            ("value_date", None),
            ("direction", "in"),
            ("direction", "INBOUND"),
            ("direction", None),
            ("counterparty_country", "hk"),
            ("counterparty_country", "HKG"),
            ("counterparty_country", "HK\n"),
            ("counterparty_country", ""),
            ("counterparty_country", 86),
            ("reverses", ""),
            ("reverses", "bad id"),
            ("reverses", 17),
            ("reverses", "r\n"),
            ("uetr", "not-a-uuid"),
            ("uetr", ""),
            ("uetr", 0),
            ("uetr", 12345),
            ("received_at", "2020-03-04T05:06:07"),  # naive
            ("received_at", "yesterday"),
            ("received_at", 1583298367),
            ("received_at", None),
        ],
    )
    def test_bad_value(self, field: str, value: Any) -> None:
        assert reason_of(raw(payload(**{field: value}))) == "schema"

    def test_amount_with_too_many_decimals_for_jpy(self) -> None:
        data = payload(currency="JPY", amount="1000.00")
        assert reason_of(raw(data)) == "schema"
        assert decode(raw(payload(currency="JPY", amount="1000")), KNOWN).event.amount == 1000

    def test_non_canonical_but_exact_amount_is_accepted(self) -> None:
        # "10" CNY is the same money as "10.00": decoded equal, same body hash.
        envelope = decode(raw(payload(amount="10")), KNOWN)
        assert envelope.event.amount == Decimal("10.00")
        assert envelope.event.body_hash() == make_event(amount=Decimal("10.00")).body_hash()

    def test_decoded_values_are_typed(self) -> None:
        event = decode(raw(payload()), KNOWN).event
        assert event.categories == ("cross_border_rmb",)
        assert event.direction is Direction.INBOUND
        assert event.uetr == UETR
        assert event.value_date == date(2020, 3, 4)

    def test_every_category_code_decodes(self) -> None:
        for code in CODES:
            assert decode(raw(payload(category=code)), KNOWN).event.categories == (code,)

    def test_categories_decode_sorted_and_category_means_a_one_element_list(self) -> None:
        several = payload(categories=["offshore", "cross_border_rmb"], category=_DELETE)
        assert decode(raw(several), KNOWN).event.categories == ("cross_border_rmb", "offshore")
        single = payload(categories=["offshore"], category=_DELETE)
        assert decode(raw(single), KNOWN).event == decode(raw(payload(category="offshore")), KNOWN).event

    def test_both_category_and_categories_is_a_schema_error(self) -> None:
        assert reason_of(raw(payload(categories=["offshore"]))) == "schema"

    def test_a_code_outside_the_catalogue_is_a_schema_error(self) -> None:
        with pytest.raises(InvalidEvent) as caught:
            decode(raw(payload()), frozenset({"offshore"}))
        assert caught.value.reason == "schema"

    def test_one_category_keeps_the_single_category_wire_form_and_hash(self) -> None:
        # Hashes of events recorded before multi-category events existed stay valid.
        one = make_event(categories=("offshore",))
        assert json.loads(encode(Envelope(one, RECEIVED)))["category"] == "offshore"
        assert '"category":"offshore"' in one.canonical_fields()
        two = make_event(categories=("cross_border_rmb", "offshore"))
        data = json.loads(encode(Envelope(two, RECEIVED)))
        assert data["categories"] == ["cross_border_rmb", "offshore"]
        assert "category" not in data

    def test_invalid_event_is_a_value_error_with_reason_and_detail(self) -> None:
        error = InvalidEvent(DlqReason.SCHEMA, "bad x")
        assert isinstance(error, ValueError)
        assert (error.reason, error.detail, str(error)) == ("schema", "bad x", "schema: bad x")


def strict_message(message: bytes) -> DecodedMessage | tuple[str, str]:
    """What the strict reference makes of a message: the decoded message, or (reason, detail)."""
    try:
        envelope = _decode_strict(_json_object(message), KNOWN)
    except InvalidEvent as exc:
        return (str(exc.reason), exc.detail)
    event = envelope.event
    return DecodedMessage(envelope, event.body_hash(), to_minor(event.amount, event.currency))


def fast_message(message: bytes) -> DecodedMessage | tuple[str, str]:
    try:
        return decode_message(message, KNOWN)
    except InvalidEvent as exc:
        return (str(exc.reason), exc.detail)


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
