"""Pure validation of one bank event (JSON object) into a `SettlementEvent`.

No I/O here: the caller passes the authenticated bank id, the rules and "today" in the
business timezone, so every rule can be unit-tested with exact pointers and messages.
Errors are collected per field (not fail-fast) so a bank sees everything wrong at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pycountry

from settlement_core.categories import (
    CATEGORY_BY_CODE,
    CATEGORY_CODES,
    DIRECTION_BY_VALUE,
    Direction,
)
from settlement_core.events import EVENT_ID_PATTERN, SettlementEvent
from settlement_core.money import MINOR_UNITS, AmountError, parse_amount
from settlement_core.problems import FieldError

# ISO 3166-1 alpha-2 as published (pycountry ships the iso-codes data set).
COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)

REQUIRED = ("event_id", "category", "amount", "currency", "value_date", "direction", "counterparty_country")
OPTIONAL = ("reverses", "uetr")
ALLOWED = frozenset(REQUIRED + OPTIONAL)
DIRECTIONS = tuple(d.value for d in Direction)

_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Rules:
    max_amount: Decimal
    currencies: frozenset[str]
    earliest_value_date: date
    future_days: int


@dataclass(frozen=True, slots=True)
class Invalid:
    """An event that failed validation; `event_id` is echoed when it was readable."""

    event_id: str | None
    errors: tuple[FieldError, ...]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _event_id(value: object) -> str | None:
    if isinstance(value, str) and EVENT_ID_PATTERN.fullmatch(value):
        return value
    return None


def validate_event(
    raw: object, bank_id: str, rules: Rules, today: date, pointer: str = "#"
) -> SettlementEvent | Invalid:
    """Validate one event object; `pointer` prefixes every error (e.g. "#/events/3")."""
    if not isinstance(raw, dict):
        return Invalid(None, (FieldError(pointer, "an event must be a JSON object"),))
    errors: list[FieldError] = []

    def fail(name: str, message: str) -> None:
        errors.append(FieldError(f"{pointer}/{name}", message))

    if "bank_id" in raw:
        fail("bank_id", "bank_id is not accepted: the bank is identified by its API key alone")
    if not raw.keys() <= ALLOWED:  # the common case skips the per-key scan
        for name in sorted(k for k in raw if k not in ALLOWED and k != "bank_id"):
            fail(str(name).replace("~", "~0").replace("/", "~1"), "unknown field")
    for name in REQUIRED:
        if raw.get(name) is None:
            fail(name, "field required")

    event_id = _event_id(raw.get("event_id"))
    if "event_id" in raw and raw["event_id"] is not None and event_id is None:
        fail("event_id", "event_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")

    category = raw.get("category")
    if category is not None and category not in CATEGORY_CODES:
        fail("category", "category must be one of " + ", ".join(CATEGORY_CODES))

    currency = raw.get("currency")
    currency_ok = isinstance(currency, str) and currency in rules.currencies and currency in MINOR_UNITS
    if currency is not None and not currency_ok:
        fail("currency", "currency must be one of " + ", ".join(sorted(rules.currencies)))

    amount_value: Decimal | None = None
    amount = raw.get("amount")
    if amount is not None:
        if _is_number(amount):
            fail(
                "amount",
                'amount must be sent as a decimal string such as "1234.56", not a JSON number (numbers lose precision)',
            )
        elif not isinstance(amount, str):
            fail("amount", 'amount must be a decimal string such as "1234.56"')
        else:
            try:
                # Without a valid currency the decimals cannot be checked; CNY's 2 is the
                # common case and keeps the format and range checks meaningful.
                amount_value = parse_amount(amount, str(currency) if currency_ok else "CNY", rules.max_amount)
            except AmountError as exc:
                fail("amount", str(exc))

    value_date: date | None = None
    raw_date = raw.get("value_date")
    if raw_date is not None:
        if not isinstance(raw_date, str) or not _DATE_TEXT.fullmatch(raw_date):
            fail("value_date", "value_date must be a date in the form YYYY-MM-DD")
        else:
            try:
                value_date = date.fromisoformat(raw_date)
            except ValueError:
                fail("value_date", "value_date is not a valid calendar date")
            else:
                latest = today + timedelta(days=rules.future_days)
                if not rules.earliest_value_date <= value_date <= latest:
                    fail(
                        "value_date",
                        f"value_date must be between {rules.earliest_value_date.isoformat()} and {latest.isoformat()}",
                    )
                    value_date = None

    direction = raw.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        fail("direction", "direction must be inbound or outbound")

    country = raw.get("counterparty_country")
    if country is not None and (not isinstance(country, str) or country not in COUNTRY_CODES):
        fail("counterparty_country", 'counterparty_country must be an ISO 3166-1 alpha-2 code in upper case, e.g. "HK"')

    reverses = raw.get("reverses")
    if reverses is not None:
        if _event_id(reverses) is None:
            fail("reverses", "reverses must be the event_id of the original event")
        elif reverses == event_id:
            fail("reverses", "an event cannot reverse itself")

    uetr_value: UUID | None = None
    uetr = raw.get("uetr")
    if uetr is not None:
        if isinstance(uetr, str) and _UUID_TEXT.fullmatch(uetr):
            uetr_value = UUID(uetr)
        else:
            fail("uetr", 'uetr must be a UUID such as "eb6305c9-1f7f-49de-aed0-16487c27b42d"')

    if errors:
        return Invalid(event_id, tuple(errors))
    # Every field was checked above; the asserts document that for the type checker.
    assert event_id is not None
    assert amount_value is not None
    assert value_date is not None
    return SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        category=CATEGORY_BY_CODE[str(category)],
        amount=amount_value,
        currency=str(currency),
        value_date=value_date,
        direction=DIRECTION_BY_VALUE[str(direction)],
        counterparty_country=str(country),
        reverses=reverses,
        uetr=uetr_value,
    )
