"""Offline validation for `settlement-submit --dry-run`: the server's event rules, mirrored.

The rules come from `contract.json`, which ships with the package and is generated from the
server's own constants (tests check that it matches, and that these rules and the server
agree on a corpus of good and bad events). The server stays the authority: a dry run that
passes can still be rejected (a different currency configuration, a 409 on a reused id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from settlement_client.errors import FieldError

_DECIMAL_TEXT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_CATEGORIES = 6


@dataclass(frozen=True, slots=True)
class EventRules:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    event_id_pattern: re.Pattern[str]
    categories: tuple[str, ...]
    directions: tuple[str, ...]
    currencies: frozenset[str]
    minor_units: Mapping[str, int]
    max_amount: Decimal
    earliest_value_date: date
    value_date_future_days: int
    timezone: ZoneInfo
    countries: frozenset[str]
    max_batch_events: int
    max_body_bytes: int
    # code -> {"label", "correction", "text_required"} (the server's seeds/correction_reasons.yaml)
    reasons: Mapping[str, Mapping[str, Any]]
    max_reason_text: int
    reason_text_pattern: re.Pattern[str]

    @classmethod
    def from_contract(cls, data: Mapping[str, Any]) -> EventRules:
        return cls(
            required=tuple(data["required"]),
            optional=tuple(data["optional"]),
            event_id_pattern=re.compile(data["event_id_pattern"]),
            categories=tuple(data["categories"]),
            directions=tuple(data["directions"]),
            currencies=frozenset(data["currencies"]),
            minor_units=dict(data["minor_units"]),
            max_amount=Decimal(data["max_amount"]),
            earliest_value_date=date.fromisoformat(data["earliest_value_date"]),
            value_date_future_days=int(data["value_date_future_days"]),
            timezone=ZoneInfo(data["business_timezone"]),
            countries=frozenset(data["countries"]),
            max_batch_events=int(data["max_batch_events"]),
            max_body_bytes=int(data["max_body_bytes"]),
            reasons=dict(data["reasons"]),
            max_reason_text=int(data["max_reason_text"]),
            reason_text_pattern=re.compile(data["reason_text_pattern"]),
        )

    @classmethod
    def shipped(cls, currencies: frozenset[str] | None = None) -> EventRules:
        """The rules of the server's default configuration (`currencies` overrides its set)."""
        data = json.loads(files("settlement_client").joinpath("contract.json").read_text(encoding="utf-8"))
        if currencies is not None:
            data["currencies"] = sorted(currencies)
        return cls.from_contract(data)

    def today(self) -> date:
        return datetime.now(self.timezone).date()

    def check(self, event: object, today: date | None = None, pointer: str = "#") -> tuple[FieldError, ...]:
        """Every rule the server applies to one event; empty when the event is valid."""
        if not isinstance(event, Mapping):
            return (FieldError(pointer, "an event must be a JSON object"),)
        errors: list[FieldError] = []

        def fail(name: str, message: str) -> None:
            errors.append(FieldError(f"{pointer}/{name}", message))

        allowed = set(self.required) | set(self.optional)
        if "bank_id" in event:
            fail("bank_id", "bank_id is not accepted: the bank is identified by its API key alone")
        for name in sorted(str(k) for k in event if k not in allowed and k != "bank_id"):
            fail(name.replace("~", "~0").replace("/", "~1"), "unknown field")
        has_categories = "categories" in self.optional and event.get("categories") is not None
        for name in self.required:
            if event.get(name) is None and not (name == "category" and has_categories):
                fail(name, "field required")

        event_id = event.get("event_id")
        id_ok = isinstance(event_id, str) and self.event_id_pattern.fullmatch(event_id) is not None
        if event_id is not None and not id_ok:
            fail("event_id", "event_id must be 1-425 characters of A-Z a-z 0-9 . _ : - %")
        category = event.get("category")
        if category is not None and category not in self.categories:
            fail("category", "category must be one of " + ", ".join(self.categories))
        if has_categories:
            self._check_categories(event["categories"], category is not None, fail)

        currency = event.get("currency")
        currency_ok = isinstance(currency, str) and currency in self.currencies and currency in self.minor_units
        if currency is not None and not currency_ok:
            fail("currency", "currency must be one of " + ", ".join(sorted(self.currencies)))
        amount = event.get("amount")
        if amount is not None:
            message = self._amount_error(amount, str(currency) if currency_ok else "CNY")
            if message:
                fail("amount", message)
        value_date = event.get("value_date")
        if value_date is not None:
            message = self._date_error(value_date, today or self.today())
            if message:
                fail("value_date", message)
        direction = event.get("direction")
        if direction is not None and direction not in self.directions:
            fail("direction", "direction must be " + " or ".join(self.directions))
        country = event.get("counterparty_country")
        if country is not None and (not isinstance(country, str) or country not in self.countries):
            fail(
                "counterparty_country",
                'counterparty_country must be an ISO 3166-1 alpha-2 code in upper case, e.g. "HK", '
                'or "ZZ" when it is unknown',
            )
        reverses = event.get("reverses")
        if reverses is not None:
            if not isinstance(reverses, str) or not self.event_id_pattern.fullmatch(reverses):
                fail("reverses", "reverses must be the event_id of the original event")
            elif id_ok and reverses == event_id:
                fail("reverses", "an event cannot reverse itself")
        uetr = event.get("uetr")
        if uetr is not None and not (isinstance(uetr, str) and _UUID_TEXT.fullmatch(uetr)):
            fail("uetr", 'uetr must be a UUID such as "eb6305c9-1f7f-49de-aed0-16487c27b42d"')
        self._check_reference(event, event_id if id_ok else None, fail)
        return tuple(errors)

    def _check_reference(self, event: Mapping[str, Any], event_id: object, fail: Any) -> None:
        """A correction's fields (corrects, reason_code, reason_text): the server's
        settlement_core.corrections.check_reference, message for message."""
        reverses, corrects = event.get("reverses"), event.get("corrects")
        code, text = event.get("reason_code"), event.get("reason_text")
        listing = ", ".join(sorted(self.reasons))
        if corrects is not None:
            if not isinstance(corrects, str) or not self.event_id_pattern.fullmatch(corrects):
                fail("corrects", "corrects must be the event_id of the event this one corrects")
            elif corrects == event_id:
                fail("corrects", "an event cannot correct itself")
            elif reverses is not None:
                fail("corrects", "send either reverses or corrects, not both")
        reason: Mapping[str, Any] | None = None
        if code is None:
            if corrects is not None:
                fail("reason_code", "a correction requires a reason_code: one of " + listing)
        elif not isinstance(code, str) or code not in self.reasons:
            fail("reason_code", "reason_code must be one of " + listing)
        elif corrects is None and reverses is None:
            fail("reason_code", "reason_code is only for a correction (corrects) or a reversal (reverses)")
        elif corrects is not None and not self.reasons[code]["correction"]:
            fail(
                "reason_code",
                f"{code} cannot be a correction's reason: a {self.reasons[code]['label']} is withdrawn by a reversal "
                f'(send "reverses" with reason_code {code})',
            )
        else:
            reason = self.reasons[code]
        if text is not None:
            if not isinstance(text, str):
                fail("reason_text", "reason_text must be a string")
            elif code is None:
                fail("reason_text", "reason_text is only sent with a reason_code")
            elif len(text) > self.max_reason_text:
                fail("reason_text", f"reason_text must be at most {self.max_reason_text} characters")
            elif not self.reason_text_pattern.fullmatch(text) or any("\ud800" <= c <= "\udfff" for c in text):
                fail(
                    "reason_text",
                    "reason_text must say something, without control characters, bidirectional overrides or lone "
                    "surrogates",
                )
        elif reason is not None and reason["text_required"]:
            fail("reason_text", f"reason_code {code} requires a reason_text saying what was wrong")

    def _check_categories(self, value: object, with_category: bool, fail: Any) -> None:
        if with_category:
            fail("categories", "category and categories are mutually exclusive; send one of them")
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_CATEGORIES:
            fail("categories", f"categories must be a list of 1 to {MAX_CATEGORIES} category codes")
            return
        if len(set(map(str, value))) != len(value) or any(c not in self.categories for c in value):
            fail("categories", "categories must be distinct codes of: " + ", ".join(self.categories))

    def _amount_error(self, amount: object, currency: str) -> str | None:
        if isinstance(amount, int | float | Decimal) and not isinstance(amount, bool):
            return (
                'amount must be sent as a decimal string such as "1234.56", not a JSON number (numbers lose precision)'
            )
        if not isinstance(amount, str):
            return 'amount must be a decimal string such as "1234.56"'
        if not _DECIMAL_TEXT.fullmatch(amount):
            return 'amount must be a plain decimal string like "1234.56" (no sign, exponent or spaces)'
        try:
            value = Decimal(amount)
        except InvalidOperation:  # the pattern excludes it; kept for safety with odd digits
            return "amount is not a decimal number"
        if value <= 0:
            return "amount must be greater than 0"
        digits = self.minor_units[currency]
        if "." in amount and len(amount.split(".", 1)[1]) > digits:
            return f"{currency} allows at most {digits} decimal places"
        if value > self.max_amount:
            return f"amount exceeds the maximum of {self.max_amount:f}"
        return None

    def _date_error(self, value: object, today: date) -> str | None:
        if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
            return "value_date must be a date in the form YYYY-MM-DD"
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return "value_date is not a valid calendar date"
        latest = today + timedelta(days=self.value_date_future_days)
        if not self.earliest_value_date <= day <= latest:
            return f"value_date must be between {self.earliest_value_date.isoformat()} and {latest.isoformat()}"
        return None
