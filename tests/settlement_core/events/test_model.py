"""events.model: body_hash covers exactly the bank's fields, in the pinned canonical form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from settlement_core.categories import Direction
from settlement_core.money import AmountError
from tests.settlement_core.events.samples import make_event


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
