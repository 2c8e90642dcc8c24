"""events.model: body_hash covers exactly the bank's fields, in the pinned canonical form."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from settlement_core.categories import Direction
from settlement_core.events import DecodedMessage, Envelope, SettlementEvent
from settlement_core.events.model import _slot_setters, checked_event, checked_message
from settlement_core.money import AmountError
from tests.settlement_core.events.samples import make_event, random_event


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
            {"corrects": "EV-0", "reason_code": "WRONG_AMOUNT"},
            {"reverses": "EV-0", "reason_code": "DUPLICATE"},
        ],
    )
    def test_every_bank_field_changes_the_hash(self, changes: dict[str, Any]) -> None:
        assert make_event(**changes).body_hash() != make_event().body_hash()

    def test_a_correction_pins_its_members_and_leaves_other_hashes_alone(self) -> None:
        # corrects sorts between category and counterparty_country, reason_* after event_id;
        # an event without them keeps the hash test_known_value pins.
        import hashlib

        canonical = (
            '{"amount":"1234.56","category":"cross_border_rmb","corrects":"EV-0","counterparty_country":"HK",'
            '"currency":"CNY","direction":"inbound","event_id":"EV:2020.03_04-0001",'
            '"reason_code":"OTHER","reason_text":"booked twice \\u4e2d",'
            '"reverses":null,"uetr":"eb6305c9-1f7f-49de-aed0-16487c27b42d",'
            '"value_date":"2020-03-04"}'
        )
        event = make_event(corrects="EV-0", reason_code="OTHER", reason_text="booked twice \u4e2d")
        assert event.body_hash() == hashlib.sha256(canonical.encode()).hexdigest()

    def test_sub_minor_amount_is_not_silently_rounded(self) -> None:
        with pytest.raises(AmountError):
            make_event(amount=Decimal("10.005")).body_hash()


class TestDirectConstructors:
    """checked_event / checked_message (the poll decoder's constructors without the frozen
    dataclasses' __init__) make the same frozen objects __init__ makes."""

    def test_equal_to_init_and_still_frozen(self) -> None:
        rng = random.Random(7)
        received = datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC)
        for _ in range(500):
            event = random_event(rng)
            built = checked_event(*(getattr(event, f.name) for f in dataclasses.fields(SettlementEvent)))
            assert built == event
            assert hash(built) == hash(event)
            assert repr(built) == repr(event)
            message = checked_message(built, received, built.body_hash(), 123)
            expected = DecodedMessage(Envelope(event, received), event.body_hash(), 123)
            assert message == expected
            assert repr(message) == repr(expected)
            assert hash(message.envelope) == hash(expected.envelope)
        for frozen, field in ((built, "amount"), (message, "amount_minor"), (message.envelope, "received_at")):
            assert not hasattr(frozen, "__dict__")
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(frozen, field, 0)

    def test_a_changed_class_fails_at_import(self) -> None:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Checked:
            a: int

            def __post_init__(self) -> None:
                if self.a < 0:
                    raise ValueError("negative")

        @dataclasses.dataclass(frozen=True, slots=True)
        class Plain:
            a: int
            b: int

        with pytest.raises(TypeError, match="changed"):
            _slot_setters(Checked, ("a",))
        with pytest.raises(TypeError, match="changed"):
            _slot_setters(Plain, ("a",))  # a field the direct constructor would leave unset
        assert len(_slot_setters(Plain, ("a", "b"))) == 2
