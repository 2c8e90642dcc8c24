"""The fast path of `validation.validate_event` for the common JSON event (issue 22, step 3).

One msgspec decoder reads the body straight into the event's shape (no dict, no JSON-number
hooks), the checks run on typed strings without collecting errors, and the canonical text
and body hash are made from the amount text just validated (`events.CanonicalEvent`), so
intake does not format the Decimal again.

It may only accept what `parse_json` + `validate_event` accept, with an equal event and the
same canonical bytes and body hash; it never explains a refusal. Anything it refuses or
finds unusual (another shape, an unknown key, a JSON number, a failed check, bytes msgspec
reads differently) goes to those, so every problem document is the strict path's, byte
for byte. tests/ingest/test_fast_validation.py compares the two over random and mutated
bodies.

Why msgspec parses only the contract's keys (`forbid_unknown_fields`): an unknown key's
value would be skipped unparsed, so bytes json.loads refuses there (an encoded surrogate
it reads with surrogatepass, a number past int()'s digit limit) would pass here. With no
unknown keys, every byte of an accepted body is a key, a string, null or a list of strings,
which both parsers read alike (duplicate keys: the last wins in both).

Order of side effects: POST /v1/events runs the whole fast path (pure) before charging the
bank's bucket; anything it refuses then goes through parse_json, the charge and
validate_event exactly as before, so a 400 still costs no token. Only "today" of an
accepted event is read one Redis round trip earlier. The batch route reads here where it
parsed, and checks after the charge, as before.

Measured with process_time on the shared 2-core machine (load ~22, min of 7 runs; the
harness is in the commit that added the batch path): a typical single event 25.6 us
strict (parse_json + validate_event + encode_many) against 9.4 us here (read_event +
check + encode_canonical); a batch of 1,000 such events 16.0 against 9.3 us per event.

The batch route (step 4) reads the whole body with `read_batch` when every item has the
common shape; an item the check refuses is validated by `validate_event` from the decoded
item (`validate_items`), so a batch with a few bad items keeps the fast read.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import msgspec

from settlement_core.categories import DIRECTION_BY_VALUE, check_categories
from settlement_core.dates import parse_iso_date_or_none
from settlement_core.events import CanonicalEvent, SettlementEvent, canonical_event
from settlement_core.events.model import checked_event
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.money import AMOUNT_PATTERN, MINOR_UNITS, max_amount_chars
from settlement_ingest.validation import (
    ALLOWED,
    COUNTERPARTY_COUNTRIES,
    UUID_TEXT,
    Rules,
    ValidationFailure,
    validate_event,
)


class CommonEvent(msgspec.Struct, forbid_unknown_fields=True):
    """The event as a bank sends it, every field a string: null or absent optional fields
    are None, as validate_event reads them with `raw.get`. A required field null, absent
    or of another type fails the decode and goes to the strict path for its message."""

    event_id: str
    amount: str
    currency: str
    value_date: str
    direction: str
    counterparty_country: str
    category: str | None = None
    categories: list[str] | None = None
    reverses: str | None = None
    uetr: str | None = None
    # A correction's or a reasoned reversal's fields: such an event takes the strict path.
    corrects: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None


# The decode stands for validate_event's unknown-field check: a field the contract drops
# but this shape keeps would be accepted here and refused there (a field it adds would
# only send every event carrying it down the slow path). Checked at import.
if frozenset(CommonEvent.__struct_fields__) != ALLOWED:
    raise TypeError("CommonEvent's fields differ from validation.ALLOWED")

_DECODER = msgspec.json.Decoder(CommonEvent)


def read_event(body: bytes) -> CommonEvent | None:
    """The body as the common event, or None when it is anything else (the caller then
    parses it with `parse_json`, which answers 400 for what is not JSON)."""
    try:
        return _DECODER.decode(body)
    except msgspec.MsgspecError:  # DecodeError and ValidationError: the strict path decides
        return None


class CommonBatch(msgspec.Struct, forbid_unknown_fields=True):
    """A batch body whose every item has the common event's shape."""

    events: list[CommonEvent]


_BATCH_DECODER = msgspec.json.Decoder(CommonBatch)


def read_batch(body: bytes) -> list[CommonEvent] | None:
    """The items of a batch body in which every item has the common shape, or None (the
    caller then takes the strict path for the whole body: its 400 and 422 answers about
    the body's shape, and the per-item messages of items of another shape)."""
    try:
        return _BATCH_DECODER.decode(body).events
    except msgspec.MsgspecError:
        return None


class FastValidator:
    """`validate_event` of a `CommonEvent` for the given rules, or None where it would fail."""

    __slots__ = ("_latest", "_longest_amount", "_rules")

    def __init__(self, rules: Rules) -> None:
        self._rules = rules
        # Text longer than this is more than the maximum (parse_amount's length check).
        self._longest_amount = max_amount_chars(rules.max_amount)
        self._latest: tuple[date, date] | None = None  # (today, today + future_days)

    def check(self, e: CommonEvent, bank_id: str, today: date) -> CanonicalEvent | None:
        """The event with its canonical text and hash, or None unless every check
        `validate_event(raw, bank_id, rules, today)` makes passes (each below mirrors one
        there, in parse_amount, parse_iso_date and check_categories)."""
        if e.corrects is not None or e.reason_code is not None or e.reason_text is not None:
            return None  # rare (a correction): validate_event decides, with its messages
        rules = self._rules
        event_id = e.event_id
        category = e.category
        several = e.categories
        if several is None:
            if category is None or category not in rules.categories:
                return None
            categories: tuple[str, ...] = (category,)
        else:
            if category is not None:
                return None
            categories, errors = check_categories(several, rules.categories)
            if errors:
                return None
        currency = e.currency
        country = e.counterparty_country
        reverses = e.reverses
        direction = DIRECTION_BY_VALUE.get(e.direction)
        exponent = MINOR_UNITS.get(currency)
        if (
            direction is None
            or exponent is None
            or currency not in rules.currencies
            or country not in COUNTERPARTY_COUNTRIES
            or not EVENT_ID_PATTERN.fullmatch(event_id)
            or (reverses is not None and (reverses == event_id or not EVENT_ID_PATTERN.fullmatch(reverses)))
        ):
            return None
        amount_text = e.amount
        if len(amount_text) > self._longest_amount or not AMOUNT_PATTERN.fullmatch(amount_text):
            return None
        whole, _, fraction = amount_text.partition(".")
        if len(fraction) > exponent or not amount_text.strip("0."):
            return None
        amount = Decimal(amount_text)
        if amount > rules.max_amount:
            return None
        value_date = parse_iso_date_or_none(e.value_date)  # memoised: requests carry few dates
        if value_date is None or not rules.earliest_value_date <= value_date <= self._latest_day(today):
            return None
        uetr_text = e.uetr
        uetr = None
        if uetr_text is not None:
            if not UUID_TEXT.fullmatch(uetr_text):
                return None
            uetr = UUID(uetr_text)
        if rules.counting.derive(categories, currency, country, str(direction)).refused_by:
            return None
        # Every value passed validate_event's checks: built without the frozen dataclass's
        # __init__ (events.model.checked_event). AMOUNT_PATTERN allows no leading zeros and
        # no trailing dot, so the text padded to the currency's scale is format_amount's.
        event = checked_event(
            bank_id, event_id, categories, amount, currency, value_date, direction, country, reverses, uetr
        )
        padded = fraction.ljust(exponent, "0")
        # UUID_TEXT is the 8-4-4-4-12 form, which str(UUID) writes in lower case.
        return canonical_event(
            event,
            whole + "." + padded if exponent else whole,
            uetr_text=None if uetr_text is None else uetr_text.lower(),
        )

    def validate_items(
        self, items: list[CommonEvent], bank_id: str, today: date
    ) -> list[CanonicalEvent | SettlementEvent | ValidationFailure]:
        """What `validate_event(item, bank_id, rules, today, "#/events/<i>")` makes of each
        item of a batch read by `read_batch`: the fast check's event, or for an item it
        refuses the strict validator's verdict on the item as a dict. That dict differs
        from json.loads's only in carrying absent optional fields as None, and
        validate_event reads every field with `raw.get` and checks only the key set's
        inclusion in ALLOWED, so the verdict, errors and their order are the same."""
        out: list[CanonicalEvent | SettlementEvent | ValidationFailure] = []
        for index, item in enumerate(items):
            checked = self.check(item, bank_id, today)
            out.append(
                checked
                if checked is not None
                else validate_event(msgspec.structs.asdict(item), bank_id, self._rules, today, f"#/events/{index}")
            )
        return out

    def _latest_day(self, today: date) -> date:
        latest = self._latest
        if latest is None or latest[0] != today:
            latest = self._latest = (today, today + timedelta(days=self._rules.future_days))
        return latest[1]
