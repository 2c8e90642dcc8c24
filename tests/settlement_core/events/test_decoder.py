"""events.decoder: strict decode with DLQ reasons."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from settlement_core.categories import Direction
from settlement_core.events import Envelope, InvalidEvent, decode, encode
from settlement_core.identifiers import MAX_EVENT_ID_LENGTH
from settlement_core.vocabulary import DlqReason
from tests.plan_catalogue import CODES, KNOWN
from tests.settlement_core.events.samples import DELETE, RECEIVED, UETR, make_event, payload, raw, reason_of


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
        assert reason_of(raw(payload(**{field: DELETE}))) == "schema"

    @pytest.mark.parametrize("field", ["reverses", "uetr"])
    def test_optional_fields_may_be_absent(self, field: str) -> None:
        envelope = decode(raw(payload(**{field: DELETE})), KNOWN)
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
        several = payload(categories=["offshore", "cross_border_rmb"], category=DELETE)
        assert decode(raw(several), KNOWN).event.categories == ("cross_border_rmb", "offshore")
        single = payload(categories=["offshore"], category=DELETE)
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
