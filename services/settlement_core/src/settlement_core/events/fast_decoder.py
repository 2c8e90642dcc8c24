"""The fast path of `decoder.decode_message` for the common message: one `category` and
every field a well-formed string.

It reuses the validated amount text for the canonical body and the minor units instead of
formatting the Decimal again. It may only accept what `decoder.decode_strict` accepts, with
equal values: each check below mirrors one of the strict decoder's (and of parse_amount,
parse_iso_date and check_categories for a single code), and
tests/settlement_core/events/test_fast_decoder.py compares the two over many messages.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from settlement_core.categories import DIRECTION_BY_VALUE
from settlement_core.dates import parse_iso_date_or_none
from settlement_core.events.canonical import body_members, hash_of
from settlement_core.events.model import DecodedMessage, Envelope, SettlementEvent
from settlement_core.identifiers import BANK_ID_PATTERN, COUNTRY_PATTERN, EVENT_ID_PATTERN
from settlement_core.money import AMOUNT_PATTERN, MINOR_UNITS

# Whole-number digits the fast path handles; 2**63 minor units have 19 digits.
_LONGEST_WHOLE = 24


def decode_common(data: dict[str, Any], known: Collection[str]) -> DecodedMessage | None:
    """The decoded message, or None unless `data` has the common shape and passes every
    check `decode_strict` makes (the caller then runs that for the reason)."""
    get = data.get
    bank_id = get("bank_id")
    event_id = get("event_id")
    category = get("category")
    amount_text = get("amount")
    currency = get("currency")
    country = get("counterparty_country")
    direction_text = get("direction")
    value_date_text = get("value_date")
    received_text = get("received_at")
    reverses = get("reverses")
    uetr_text = get("uetr")
    if (
        type(bank_id) is not str
        or type(event_id) is not str
        or type(category) is not str
        or type(amount_text) is not str
        or type(currency) is not str
        or type(country) is not str
        or type(direction_text) is not str
        or type(value_date_text) is not str
        or type(received_text) is not str
        or (reverses is not None and type(reverses) is not str)
        or (uetr_text is not None and type(uetr_text) is not str)
        or "categories" in data
        # A correction's or a reasoned reversal's fields: left to the strict path (rare).
        or "corrects" in data
        or "reason_code" in data
        or "reason_text" in data
        or category not in known
        or not BANK_ID_PATTERN.fullmatch(bank_id)
        or not EVENT_ID_PATTERN.fullmatch(event_id)
        or not COUNTRY_PATTERN.fullmatch(country)
        or (reverses is not None and not EVENT_ID_PATTERN.fullmatch(reverses))
    ):
        return None
    exponent = MINOR_UNITS.get(currency)
    direction = DIRECTION_BY_VALUE.get(direction_text)
    value_date = parse_iso_date_or_none(value_date_text)  # memoised: a batch has few value dates
    if exponent is None or direction is None or value_date is None or not AMOUNT_PATTERN.fullmatch(amount_text):
        return None
    whole, _, fraction = amount_text.partition(".")
    # Longer than any 64-bit minor-unit amount: left to the strict path (int() of a text
    # of thousands of digits would raise instead of deciding).
    if len(fraction) > exponent or len(whole) > _LONGEST_WHOLE:
        return None
    amount = Decimal(amount_text)
    if not amount > 0:
        return None
    try:
        uetr = UUID(uetr_text) if uetr_text is not None else None
        received_at = datetime.fromisoformat(received_text)
    except ValueError:
        return None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        return None
    # AMOUNT_PATTERN allows no leading zeros and no trailing dot, so the text padded to
    # the currency's scale is exactly format_amount(amount) and its digits the minor units.
    padded = fraction.ljust(exponent, "0")
    canonical = whole + "." + padded if exponent else whole
    event = SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        categories=(category,),
        amount=amount,
        currency=currency,
        value_date=value_date,
        direction=direction,
        counterparty_country=country,
        reverses=reverses,
        uetr=uetr,
    )
    return DecodedMessage(
        Envelope(event=event, received_at=received_at),
        hash_of("".join(body_members(event, canonical))),
        int(whole + padded),
    )
