"""fast_validation: the common event's fast path accepts only what `parse_json` +
`validate_event` accept, with an equal event, the same canonical text, body hash and topic
payload; and on bodies written the ordinary way (json.dumps) it accepts everything they
accept, so valid events do take it. What it refuses goes to the strict path, which then
answers as it always did (the route calls it unchanged)."""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settlement_core.events import CanonicalEvent, SettlementEvent, canonical_event, encode_canonical, encode_many
from settlement_core.identifiers import MAX_EVENT_ID_LENGTH, UNKNOWN_COUNTRY
from settlement_core.money import MINOR_UNITS
from settlement_core.problems import Problem
from settlement_ingest.fast_validation import CommonEvent, FastValidator, read_batch, read_event
from settlement_ingest.json_body import parse_json
from settlement_ingest.validation import Rules, ValidationFailure, validate_event
from tests.plan_catalogue import CODES, KNOWN
from tests.plan_catalogue import RULES as COUNTING
from tests.support.json_edges import edited, parser_edges

# Three exponents (JPY 0, CNY 2, KWD 3), and MINOR_UNITS currencies outside the set (AUD).
RULES = Rules(
    max_amount=Decimal(10) ** 15,
    currencies=frozenset({"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD", "KWD"}),
    earliest_value_date=date(2010, 1, 1),
    future_days=1,
    categories=KNOWN,
    counting=COUNTING,
)
TODAY = date(2026, 11, 30)
BANK = "bank-01"
FAST = FastValidator(RULES)
RECEIVED = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
UETR = "eb6305c9-1f7f-49de-aed0-16487c27b42d"

Strict = SettlementEvent | ValidationFailure | Problem


def strict(body: bytes) -> Strict:
    """The route's strict path: a 400 problem, or what validate_event makes of the document."""
    try:
        document = parse_json(body)
    except Problem as problem:
        return problem
    return validate_event(document, BANK, RULES, TODAY)


def fast(body: bytes) -> CanonicalEvent | None:
    common = read_event(body)
    return None if common is None else FAST.check(common, BANK, TODAY)


def assert_agrees(body: bytes, *, ordinary: bool) -> CanonicalEvent | None:
    """Fast accepts only what strict accepts, with the same event and bytes; on an
    `ordinary` body (json.dumps of a dict) it also accepts everything strict accepts."""
    got = fast(body)
    expected = strict(body)
    if got is None:
        if ordinary:
            assert not isinstance(expected, SettlementEvent), body
        return None
    assert isinstance(expected, SettlementEvent), (body, expected)
    assert got.event == expected, body
    # Decimal equality lets 1.0 == 1.00 pass: the texts must be equal too.
    assert str(got.event.amount) == str(expected.amount), body
    reference = canonical_event(expected)
    assert got.members == reference.members, body
    assert got.body_hash == reference.body_hash == expected.body_hash(), body
    [(payload, digest)] = encode_many([expected], RECEIVED)
    assert encode_canonical([got], RECEIVED) == [payload], body
    assert digest == got.body_hash
    return got


def event(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": "CQB-2026-000123",
        "category": "cross_border_rmb",
        "amount": "1250000.00",
        "currency": "CNY",
        "value_date": "2026-11-30",
        "direction": "outbound",
        "counterparty_country": "SG",
        "uetr": UETR,
    }
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


_ID_CHARS = string.ascii_letters + string.digits + "._:-%"


def random_event(rng: random.Random) -> dict[str, Any]:
    currency = rng.choice(sorted(RULES.currencies))
    exponent = MINOR_UNITS[currency]
    whole = rng.choice(["0", "1", str(rng.randrange(1, 10**15)), "1" + "0" * 15])
    fraction = "".join(rng.choices(string.digits, k=rng.randint(0, exponent)))
    amount = whole + ("." + fraction if fraction else "")
    data = event(
        event_id="".join(rng.choices(_ID_CHARS, k=rng.choice([rng.randint(1, 40), MAX_EVENT_ID_LENGTH]))),
        amount=amount,
        currency=currency,
        value_date=(TODAY + timedelta(days=rng.randint(-6200, 2))).isoformat(),
        direction=rng.choice(["inbound", "outbound"]),
        counterparty_country=rng.choice(["HK", "SG", "US", "CN", "GB", UNKNOWN_COUNTRY]),
        uetr=rng.choice([..., None, UETR, UETR.upper()]),
        reverses=rng.choice([..., None, "EV-0", "".join(rng.choices(_ID_CHARS, k=rng.randint(1, 40)))]),
    )
    if rng.random() < 0.4:
        data.pop("category")
        data["categories"] = rng.sample(CODES, rng.randint(1, len(CODES)))
        if rng.random() < 0.2:
            data["category"] = None
    elif rng.random() < 0.1:
        data["categories"] = None
    return data


# Values a mutated event may carry in place of a field: well-formed, malformed, other types.
MUTATIONS: list[Any] = [
    None,
    "",
    0,
    1.5,
    True,
    [],
    {},
    ["offshore"],
    ["offshore", "offshore"],
    ["retail"],
    [*CODES, "offshore"],
    [7],
    "offshore",
    "cross_border_rmb",
    "retail",
    "CNY",
    "JPY",
    "KWD",
    "AUD",
    "cny",
    "1234.56",
    "1234.567",
    "1234.5678",
    "1000",
    "0",
    "0.00",
    "0.001",
    "007",
    "1.",
    ".5",
    "1e3",
    "-5",
    " 10",
    "10\n",
    "١٢٣",
    "1000000000000000",
    "1000000000000000.00",
    "1000000000000000.01",
    "1000000000000001",
    "1" + "0" * 5000,
    "2010-01-01",
    "2009-12-31",
    "2026-12-01",
    "2026-12-02",
    "2020-02-29",
    "2021-02-29",
    "20200304",
    "2026-11-02T00:00:00",
    "inbound",
    "outbound",
    "OUTBOUND",
    "HK",
    "hk",
    "ZZ",
    "XX",
    "UK",
    "CQB-2026-000123",
    "EV-1",
    "bad id",
    "a/b",
    "x" * MAX_EVENT_ID_LENGTH,
    "x" * (MAX_EVENT_ID_LENGTH + 1),
    "ABC%2FABC-13679%2F2015-09-15",
    UETR,
    UETR.upper(),
    UETR.replace("-", ""),
    "{" + UETR + "}",
    "urn:uuid:" + UETR,
    "\ud800",
    "bank-01",
]
FIELDS = [*event(), "categories", "reverses", "bank_id", "memo"]


class TestFastMatchesStrict:
    def test_random_valid_events_take_the_fast_path(self) -> None:
        rng = random.Random(22)
        taken = 0
        for _ in range(3000):
            taken += assert_agrees(dumps(random_event(rng)), ordinary=True) is not None
        # Most random events are valid (a few are refused by a catalogue rule, the value
        # date window or an amount of zero): the test would prove little if few were.
        assert taken > 2000

    def test_mutated_events_decide_like_the_strict_path(self) -> None:
        rng = random.Random(23)
        for _ in range(6000):
            data = random_event(rng)
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(FIELDS)
                if rng.random() < 0.2:
                    data.pop(name, None)
                else:
                    data[name] = rng.choice(MUTATIONS)
            assert_agrees(dumps(data), ordinary=True)

    def test_unusual_bytes_decide_like_the_strict_path(self) -> None:
        good = dumps(event())
        members = good[1:-1]
        bodies = [
            good,
            *parser_edges(good, extra="memo", other_category="offshore"),
            dumps([event()]),
            dumps({"events": [event()]}),
            b'{"category":7,' + members + b"}",
            b"{" + members + b',"amount":"1.5"}',
            b"{" + members + b',"amount":Infinity}',
            b"{" + members + b',"amount":"\\u0031\\u0030"}',  # escaped digits: still "10"
            b'{"\\u0061mount":"10",' + members[1:] + b"}",  # an escaped key
            b"{" + members + b',"counterparty_country":"H\\u004b"}',
            b"{" + members + b',"event_id":"EV\\u00001"}',
            b"{" + members + b',"event_id":"EV\t1"}',  # a raw control character
            b"{" + members + b',"uetr":null}',
            b"{" + members + b',"reverses":null,"categories":null}',
            b"{" + members + b',"reverses":"CQB-2026-000123"}',  # an event cannot reverse itself
            b"{" + members + b',"bank_id":null}',
            b"{" + members + b',"value_date":"2026-12-01"}',
            b"{" + members + b',"value_date":"2026-12-02"}',
        ]
        results = [assert_agrees(body, ordinary=False) for body in bodies]
        assert results[0] is not None
        assert sum(r is not None for r in results) >= 8  # some are accepted

    @given(st.data())
    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_byte_edits_decide_like_the_strict_path(self, data: Any) -> None:
        """A real body with a few byte-level edits (deletions, insertions, replacements):
        whatever comes out, the fast path accepts it only as the strict one does."""
        fields = {"reverses": data.draw(st.sampled_from([..., None, "EV-0"]))}
        if data.draw(st.booleans()):
            fields |= {"category": ..., "categories": ["cross_border_rmb", "cross_border_ecommerce"]}
        assert_agrees(edited(data, dumps(event(**fields))), ordinary=False)

    @given(
        st.dictionaries(
            st.sampled_from(FIELDS),
            st.one_of(st.sampled_from(MUTATIONS), st.text(max_size=12), st.none(), st.integers()),
            max_size=len(FIELDS),
        )
    )
    @settings(max_examples=500, deadline=None)
    def test_random_objects_decide_like_the_strict_path(self, changes: dict[str, Any]) -> None:
        assert_agrees(dumps(event() | changes), ordinary=True)


def strict_items(body: bytes) -> list[SettlementEvent | ValidationFailure] | None:
    """The batch route's strict path up to its candidates; None where it answers the
    whole request (400, or 422 about the body's shape)."""
    try:
        document = parse_json(body)
    except Problem:
        return None
    if not isinstance(document, dict) or set(document) != {"events"} or not isinstance(document["events"], list):
        return None
    events = document["events"]
    if not events or not all(isinstance(e, dict) for e in events):
        return None
    return [validate_event(e, BANK, RULES, TODAY, f"#/events/{i}") for i, e in enumerate(events)]


def assert_batch_agrees(body: bytes, *, ordinary: bool) -> bool:
    """The items read_batch reads get, one by one, the strict verdict: the same events with
    the same canonical bytes, the same errors at the same pointers in the same order. On
    an `ordinary` body (json.dumps), every body of common-shaped items is read."""
    items = read_batch(body)
    expected = strict_items(body)
    if not items:  # the route also leaves an empty list (and one over its limit) to the strict path
        if ordinary and expected is not None:
            documents = json.loads(body)["events"]
            assert not all(read_event(dumps(d)) is not None for d in documents), body
        return False
    assert expected is not None, body
    got = FAST.validate_items(items, BANK, TODAY)
    assert len(got) == len(expected)
    for candidate, reference in zip(got, expected, strict=True):
        if isinstance(reference, ValidationFailure):
            assert candidate == reference, body
            continue
        assert not isinstance(candidate, ValidationFailure), body
        body_of = candidate if isinstance(candidate, CanonicalEvent) else canonical_event(candidate)
        assert body_of.event == reference
        assert str(body_of.event.amount) == str(reference.amount)
        assert body_of.members == canonical_event(reference).members
        assert body_of.body_hash == reference.body_hash()
    return True


class TestFastBatchMatchesStrict:
    def test_mixed_batches_of_valid_and_mutated_events(self) -> None:
        rng = random.Random(24)
        read = 0
        for _ in range(300):
            events: list[Any] = []
            for _ in range(rng.randint(1, 12)):
                data = random_event(rng)
                if rng.random() < 0.3:
                    name = rng.choice(FIELDS)
                    if rng.random() < 0.2:
                        data.pop(name, None)
                    else:
                        data[name] = rng.choice(MUTATIONS)
                events.append(data)
            read += assert_batch_agrees(dumps({"events": events}), ordinary=True)
        # Items of another shape (a number, null in a required field, an unknown key)
        # send a whole batch to the strict path; most batches here have none.
        assert read > 30

    def test_unusual_batch_bodies(self) -> None:
        item = dumps(event())
        bodies = [
            b'{"events":[' + item + b"]}",
            b'{"events":[]}',
            b'{"events":null}',
            b'{"events":{}}',
            b'{"events":[' + item + b'],"extra":1}',
            b'{"events":[' + item + b',"text"]}',
            b'{"events":[' + item + b",null]}",
            b'{"events":[' + item + b'],"events":[' + item + b"," + item + b"]}",  # the last wins
            b"[" + item + b"]",
            item,
            b'{"events":[' + item + b"," + dumps(event(amount="0")) + b"," + dumps(event(event_id="x y")) + b"]}",
            b'{"events":[' + item + b"," + dumps(event(category=..., categories=["offshore", "offshore"])) + b"]}",
            b'{"events":[' + item + b"," + dumps(event(reverses=None, uetr=None, categories=None)) + b"]}",
        ]
        results = [assert_batch_agrees(body, ordinary=False) for body in bodies]
        assert results[0]
        assert sum(results) >= 4

    @given(st.data())
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_byte_edits_of_batches(self, data: Any) -> None:
        batch = dumps({"events": [event(), event(event_id="EV-2", category=..., categories=["offshore"])]})
        assert_batch_agrees(edited(data, batch), ordinary=False)


def test_the_common_shape_is_the_contract() -> None:
    """The decode stands for validate_event's unknown-field check (checked at import too)."""
    from settlement_ingest.validation import ALLOWED

    assert frozenset(CommonEvent.__struct_fields__) == ALLOWED


def test_the_value_date_window_moves_with_today() -> None:
    """The memoised end of the window follows the day each call passes."""
    common = read_event(dumps(event(value_date="2026-12-01")))
    assert common is not None
    validator = FastValidator(RULES)
    assert validator.check(common, BANK, TODAY) is not None
    assert validator.check(common, BANK, TODAY - timedelta(days=1)) is None
    assert validator.check(common, BANK, TODAY) is not None
