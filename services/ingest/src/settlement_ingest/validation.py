"""Pure validation of one bank event (JSON object) into a `SettlementEvent`.

No I/O here: the caller passes the authenticated bank id, the rules and "today" in the
business timezone, so every rule can be unit-tested with exact pointers and messages.
Errors are collected per field (not fail-fast) so a bank sees everything wrong at once:
each field has its own small check returning (value or None, its errors).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pycountry

from settlement_core.categories import DIRECTION_BY_VALUE, Direction, check_categories
from settlement_core.corrections import NO_REASONS, ReasonCodes, check_reference
from settlement_core.dates import DateFormatError, parse_iso_date
from settlement_core.events import SettlementEvent
from settlement_core.identifiers import EVENT_ID_ALPHABET, EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH, UNKNOWN_COUNTRY
from settlement_core.money import MINOR_UNITS, AmountError, parse_amount
from settlement_core.problems import FieldError
from settlement_core.rules import CountingRules
from settlement_ingest.json_body import JsonNumber

# ISO 3166-1 alpha-2 as published (pycountry ships the iso-codes data set).
COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
# What counterparty_country may be: a country, or "ZZ" when the bank's message names none.
COUNTERPARTY_COUNTRIES = COUNTRY_CODES | {UNKNOWN_COUNTRY}

# `category` stands for "category or categories" (exactly one of them; see _check_categories).
REQUIRED = ("event_id", "category", "amount", "currency", "value_date", "direction", "counterparty_country")
OPTIONAL = ("categories", "reverses", "uetr", "corrects", "reason_code", "reason_text")
ALLOWED = frozenset(REQUIRED + OPTIONAL)
DIRECTIONS = tuple(d.value for d in Direction)

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Rules:
    max_amount: Decimal
    currencies: frozenset[str]
    earliest_value_date: date
    future_days: int
    categories: frozenset[str]  # the catalogue's codes
    counting: CountingRules  # the catalogue's derivation rules (refusals apply at intake)
    # The reason codes a correction or reversal may carry (seeds/correction_reasons.yaml);
    # none configured: every reason_code is refused, so no correction is accepted.
    reasons: ReasonCodes = NO_REASONS


@dataclass(frozen=True, slots=True)
class ValidationFailure:
    """An event that failed validation; `event_id` is echoed when it was readable."""

    event_id: str | None
    errors: tuple[FieldError, ...]


def _is_number(value: object) -> bool:
    # Bodies decoded by json_body carry JsonNumber; callers that pass Python objects
    # (tests, the ISO reader) may pass int/float/Decimal.
    return isinstance(value, JsonNumber | int | float | Decimal) and not isinstance(value, bool)


def _event_id(value: object) -> str | None:
    if isinstance(value, str) and EVENT_ID_PATTERN.fullmatch(value):
        return value
    return None


# Each check gets the raw value (None when absent or null, reported by the required check)
# and a `fail(message, *path)` that records an error at the field's pointer (plus `path`).
Fail = Callable[..., None]


def _check_event_id(value: object, fail: Fail) -> str | None:
    event_id = _event_id(value)
    if value is not None and event_id is None:
        fail(f"event_id must be 1-{MAX_EVENT_ID_LENGTH} characters of {EVENT_ID_ALPHABET}")
    return event_id


def _check_categories(raw: dict[str, Any], rules: Rules, fail: Callable[[str, str], None]) -> tuple[str, ...] | None:
    """`category` (one code) or `categories` (1..6 distinct codes), exactly one of them."""
    single, several = raw.get("category"), raw.get("categories")
    if single is not None and several is not None:
        fail("categories", "send either category or categories, not both")
        return None
    if single is None and several is None:
        return None  # reported as a missing required field
    if single is not None:
        if not isinstance(single, str) or single not in rules.categories:
            fail("category", "category must be one of " + ", ".join(sorted(rules.categories)))
            return None
        return (str(single),)
    codes, errors = check_categories(several, rules.categories)
    for error in errors:
        fail("categories" if error.index is None else f"categories/{error.index}", error.message)
    return codes or None


def _check_currency(value: object, rules: Rules, fail: Fail) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in rules.currencies and value in MINOR_UNITS:
        return value
    fail("currency must be one of " + ", ".join(sorted(rules.currencies)))
    return None


def _check_amount(value: object, currency: str | None, rules: Rules, fail: Fail) -> Decimal | None:
    if value is None:
        return None
    if _is_number(value):
        fail('amount must be sent as a decimal string such as "1234.56", not a JSON number (numbers lose precision)')
        return None
    if not isinstance(value, str):
        fail('amount must be a decimal string such as "1234.56"')
        return None
    try:
        # Without a valid currency the decimals cannot be checked; CNY's 2 is the common
        # case and keeps the format and range checks meaningful.
        return parse_amount(value, currency or "CNY", rules.max_amount)
    except AmountError as exc:
        fail(str(exc))
        return None


def _check_value_date(value: object, rules: Rules, today: date, fail: Fail) -> date | None:
    if value is None:
        return None
    try:
        day = parse_iso_date(value)
    except DateFormatError as exc:
        fail(f"value_date {exc}")
        return None
    latest = today + timedelta(days=rules.future_days)
    if not rules.earliest_value_date <= day <= latest:
        fail(f"value_date must be between {rules.earliest_value_date.isoformat()} and {latest.isoformat()}")
        return None
    return day


def _check_direction(value: object, fail: Fail) -> Direction | None:
    if value is None:
        return None
    direction = DIRECTION_BY_VALUE.get(value) if isinstance(value, str) else None
    if direction is None:
        fail("direction must be inbound or outbound")
    return direction


def _check_country(value: object, fail: Fail) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in COUNTERPARTY_COUNTRIES:
        return value
    fail(
        'counterparty_country must be an ISO 3166-1 alpha-2 code in upper case, e.g. "HK", '
        f'or "{UNKNOWN_COUNTRY}" when it is unknown'
    )
    return None


def _check_reverses(value: object, event_id: str | None, fail: Fail) -> str | None:
    if value is None:
        return None
    reverses = _event_id(value)
    if reverses is None:
        fail("reverses must be the event_id of the original event")
    elif reverses == event_id:
        fail("an event cannot reverse itself")
        return None
    return reverses


def _check_uetr(value: object, fail: Fail) -> UUID | None:
    if value is None:
        return None
    if isinstance(value, str) and UUID_TEXT.fullmatch(value):
        return UUID(value)
    fail('uetr must be a UUID such as "eb6305c9-1f7f-49de-aed0-16487c27b42d"')
    return None


def _check_fields(raw: dict[str, Any], fail: Callable[[str, str], None]) -> None:
    """Unknown fields, bank_id and missing required fields."""
    if "bank_id" in raw:
        fail("bank_id", "bank_id is not accepted: the bank is identified by its API key alone")
    if not raw.keys() <= ALLOWED:  # the common case skips the per-key scan
        for name in sorted(k for k in raw if k not in ALLOWED and k != "bank_id"):
            fail(str(name).replace("~", "~0").replace("/", "~1"), "unknown field")
    for name in REQUIRED:
        if raw.get(name) is None and (name != "category" or raw.get("categories") is None):
            fail(name, "field required")


def validate_event(
    raw: object, bank_id: str, rules: Rules, today: date, pointer: str = "#"
) -> SettlementEvent | ValidationFailure:
    """Validate one event object; `pointer` prefixes every error (e.g. "#/events/3")."""
    if not isinstance(raw, dict):
        return ValidationFailure(None, (FieldError(pointer, "an event must be a JSON object"),))
    errors: list[FieldError] = []

    def fail_at(name: str, message: str) -> None:
        errors.append(FieldError(f"{pointer}/{name}", message))

    def at(name: str) -> Fail:
        return lambda message: fail_at(name, message)

    _check_fields(raw, fail_at)
    event_id = _check_event_id(raw.get("event_id"), at("event_id"))
    categories = _check_categories(raw, rules, fail_at)
    currency = _check_currency(raw.get("currency"), rules, at("currency"))
    amount = _check_amount(raw.get("amount"), currency, rules, at("amount"))
    value_date = _check_value_date(raw.get("value_date"), rules, today, at("value_date"))
    direction = _check_direction(raw.get("direction"), at("direction"))
    country = _check_country(raw.get("counterparty_country"), at("counterparty_country"))
    reverses = _check_reverses(raw.get("reverses"), event_id, at("reverses"))
    uetr = _check_uetr(raw.get("uetr"), at("uetr"))
    reference, reference_errors = check_reference(
        event_id,
        raw.get("reverses"),
        raw.get("corrects"),
        raw.get("reason_code"),
        raw.get("reason_text"),
        rules.reasons,
    )
    for name, message in reference_errors:
        fail_at(name, message)

    if errors:
        return ValidationFailure(event_id, tuple(errors))
    # Every field was checked above; the asserts document that for the type checker.
    assert event_id is not None
    assert categories is not None
    assert amount is not None
    assert currency is not None
    assert value_date is not None
    assert direction is not None
    assert country is not None
    # The catalogue's refuse rules (e.g. offshore business is never in CNY).
    derivation = rules.counting.derive(categories, currency, country, str(direction))
    if derivation.refused_by:
        return ValidationFailure(
            event_id, tuple(FieldError(f"{pointer}/{r.field}", str(r.message)) for r in derivation.refused_by)
        )
    return SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        categories=categories,
        amount=amount,
        currency=currency,
        value_date=value_date,
        direction=direction,
        counterparty_country=country,
        reverses=reverses,
        uetr=uetr,
        corrects=reference.corrects,
        reason_code=reference.reason_code,
        reason_text=reference.reason_text,
    )
