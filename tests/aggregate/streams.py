"""Seeded random event streams and an independent oracle of the totals they must produce.

The oracle deliberately re-implements the counting rules from the specification
(docs/aggregator.md) on plain JSON and Decimal: it shares no code with the aggregator, so
a bug in the production planner cannot hide in the expected values. That includes events
with several categories (each counts in full toward every one), the shipped catalogue's
derivation rule (written out below) and the distinct volume (`*`: each event once).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode

# ISO 4217 exponents, written out here on purpose (not settlement_core.money).
EXPONENTS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0, "KWD": 3}
# The six codes of seeds/targets.yaml, written out here on purpose.
CATEGORIES = [
    "cross_border_rmb",
    "cross_border_ecommerce",
    "mnc_headquarters",
    "offshore",
    "factor_market",
    "corporate_account",
]
COUNTRIES = ["US", "DE", "SG", "HK", "JP", "GB", "CN"]
DISTINCT = "*"


def seed_rule(categories: list[str], currency: str, country: str) -> list[str]:
    """seeds/targets.yaml's enabled add rule, from its text: e-commerce or headquarters
    settlement in CNY with a foreign counterparty also counts toward cross_border_rmb."""
    counted = set(categories)
    if {"cross_border_ecommerce", "mnc_headquarters"} & counted and currency == "CNY" and country != "CN":
        counted.add("cross_border_rmb")
    return sorted(counted)


def no_rule(categories: list[str], currency: str, country: str) -> list[str]:
    del currency, country
    return sorted(set(categories))


@dataclass(frozen=True, slots=True)
class Msg:
    key: bytes
    value: bytes
    kind: str  # original | duplicate | conflict | reversal | poison ...

    @property
    def poison(self) -> bool:
        return self.kind.startswith("poison")


def _amount(rng: random.Random, currency: str) -> Decimal:
    units = rng.randint(1, 10**9)
    return Decimal(units).scaleb(-EXPONENTS[currency])


def _event(
    bank: str,
    event_id: str,
    categories: tuple[str, ...],
    amount: Decimal,
    currency: str,
    day: date,
    direction: str,
    country: str,
    reverses: str | None = None,
    corrects: str | None = None,
    reason_code: str | None = None,
) -> SettlementEvent:
    return SettlementEvent(
        bank_id=bank,
        event_id=event_id,
        categories=categories,
        amount=amount,
        currency=currency,
        value_date=day,
        direction=Direction(direction),
        counterparty_country=country,
        reverses=reverses,
        corrects=corrects,
        reason_code=reason_code,
    )


def _msg(event: SettlementEvent, kind: str) -> Msg:
    envelope = Envelope(event=event, received_at=datetime.now(UTC))
    return Msg(event.bank_id.encode(), encode(envelope), kind)


def _poison(rng: random.Random, bank: str, template: bytes) -> Msg:
    choice = rng.randrange(5)
    if choice == 0:
        return Msg(bank.encode(), b"\x00\xffnot json at all", "poison:undecodable")
    if choice == 1:
        return Msg(bank.encode(), b"[1, 2, 3]", "poison:array")
    data = json.loads(template)
    if choice == 2:
        data["currency"] = "XXX"
    elif choice == 3:
        del data["value_date"]
    else:
        data["v"] = 99
    return Msg(bank.encode(), json.dumps(data).encode(), "poison:schema")


def generate(
    seed: int,
    originals: int,
    banks: int = 16,
    *,
    poison_rate: float = 0.01,
    tag: str = "",
    correction_rate: float = 0.0,
) -> list[Msg]:
    """A shuffled stream: originals plus duplicates, conflicting duplicates, reversals
    (some before their original, some mismatched, some twice), and poison messages.
    Value dates span 2018-2021 in random order (out of order and late).

    With `correction_rate`, that share of originals is also corrected (a new amount, day,
    category or currency): some corrections come before their original (dead-lettered),
    some twice (the second refused), some are corrected again (a chain). They are drawn
    from their own generator, so the rest of the stream is the one the seed always gave."""
    rng = random.Random(seed)
    categories_rng = random.Random(seed * 7919 + 1)
    corrections_rng = random.Random(seed * 104_729 + 3)
    timeline: list[tuple[float, int, Msg]] = []
    seq = 0

    def put(t: float, msg: Msg) -> None:
        nonlocal seq
        timeline.append((t, seq, msg))
        seq += 1

    for i in range(originals):
        bank = f"bank{rng.randrange(banks):02d}"
        currency = rng.choice(list(EXPONENTS))
        # Mostly one category, often two, sometimes up to all six. Drawn from their own
        # generator after the draw of one-category streams, so the stream's structure
        # (amounts, timing, duplicates, reversals) is the same as before categories were sets.
        first = rng.choice(CATEGORIES)
        size = categories_rng.choice([1, 1, 1, 2, 2, 3, 6])
        others = categories_rng.sample([c for c in CATEGORIES if c != first], size - 1)
        category = tuple(sorted([first, *others]))
        day = date(2018, 1, 1) + timedelta(days=rng.randrange(4 * 365))
        direction = rng.choice(["inbound", "outbound"])
        country = rng.choice(COUNTRIES)
        amount = _amount(rng, currency)
        eid = f"{tag}e{i}"
        original = _event(bank, eid, category, amount, currency, day, direction, country)
        t = float(i)
        put(t, _msg(original, "original"))
        roll = rng.random()
        if roll < 0.10:
            put(t + rng.uniform(0.5, 30), _msg(original, "duplicate"))
        elif roll < 0.15:
            other = amount + Decimal(1).scaleb(-EXPONENTS[currency])
            put(
                t + rng.uniform(0.5, 30),
                _msg(_event(bank, eid, category, other, currency, day, direction, country), "conflict"),
            )
        if rng.random() < 0.18:
            before = rng.random() < 0.35
            rt = t - rng.uniform(0.5, 15) if before else t + rng.uniform(0.5, 40)
            r_amount = amount
            r_currency = currency
            if rng.random() < 0.15:  # mismatch: amount or currency differs
                if rng.random() < 0.5:
                    r_amount = amount + Decimal(1).scaleb(-EXPONENTS[currency])
                else:
                    r_currency = "EUR" if currency != "EUR" else "USD"
                    r_amount = amount.quantize(Decimal(1).scaleb(-EXPONENTS[r_currency]))
                    if r_amount <= 0:
                        r_amount = Decimal(1)
            reversal = _event(bank, f"{tag}r{i}", category, r_amount, r_currency, day, direction, country, reverses=eid)
            put(rt, _msg(reversal, "reversal"))
            if rng.random() < 0.10:
                put(rt + rng.uniform(0.1, 20), _msg(reversal, "reversal-duplicate"))
            if rng.random() < 0.10:
                again = _event(bank, f"{tag}rr{i}", category, amount, currency, day, direction, country, reverses=eid)
                put(rt + rng.uniform(0.1, 20), _msg(again, "reversal-twice"))
        if rng.random() < poison_rate:
            put(t + rng.uniform(0, 5), _poison(rng, bank, _msg(original, "template").value))
        if correction_rate and corrections_rng.random() < correction_rate:
            _corrections(corrections_rng, put, original, t, tag, i)
    timeline.sort(key=lambda item: (item[0], item[1]))
    return [msg for _, _, msg in timeline]


REASONS = ["WRONG_AMOUNT", "WRONG_DATE", "WRONG_CATEGORY"]


def _corrections(
    rng: random.Random, put: Callable[[float, Msg], None], original: SettlementEvent, t: float, tag: str, i: int
) -> None:
    """A correction of `original` (sometimes early, twice, or corrected again)."""

    def corrected(event_id: str, of: SettlementEvent) -> SettlementEvent:
        currency = of.currency if rng.random() < 0.9 else rng.choice(list(EXPONENTS))
        return _event(
            of.bank_id,
            event_id,
            (rng.choice(CATEGORIES),) if rng.random() < 0.3 else of.categories,
            _amount(rng, currency),
            currency,
            of.value_date + timedelta(days=rng.randrange(-3, 4)),
            of.direction.value,
            of.counterparty_country,
            corrects=of.event_id,
            reason_code=rng.choice(REASONS),
        )

    early = rng.random() < 0.1
    ct = t - rng.uniform(0.5, 10) if early else t + rng.uniform(0.5, 40)
    first = corrected(f"{tag}c{i}", original)
    put(ct, _msg(first, "correction-early" if early else "correction"))
    if rng.random() < 0.1:
        put(ct + rng.uniform(0.1, 20), _msg(corrected(f"{tag}cc{i}", original), "correction-twice"))
    if rng.random() < 0.15:
        put(ct + rng.uniform(0.1, 20), _msg(corrected(f"{tag}c2{i}", first), "correction-chain"))


@dataclass(slots=True)
class _Row:
    amount: Decimal
    currency: str
    categories: list[str]
    country: str
    day: date
    bank: str
    reverses: str | None
    status: str


@dataclass(slots=True)
class Expected:
    """Totals in major units: (category, currency, grain, period label) -> Decimal."""

    totals: dict[tuple[str, str, str, str], Decimal] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (category, year)
    counted_events: int = 0


def oracle(msgs: list[Msg], rules: Callable[[list[str], str, str], list[str]] = seed_rule) -> Expected:
    """Apply the specification's rules to a stream in per-bank order; `rules` are the
    catalogue's derivation rules (what each event counts toward)."""
    rows: dict[tuple[str, str], _Row] = {}
    active: dict[tuple[str, str], str] = {}
    totals: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    expected = Expected()

    def add(row: _Row, sign: int) -> None:
        amount = row.amount * sign
        for grain, label in (
            ("d", row.day.isoformat()),
            ("m", row.day.strftime("%Y-%m")),
            ("y", row.day.strftime("%Y")),
        ):
            for category in [*rules(row.categories, row.currency, row.country), DISTINCT]:
                totals[(category, row.currency, grain, label)] += amount
        for category in [*rules(row.categories, row.currency, row.country), DISTINCT]:
            counts[(category, row.day.strftime("%Y"))] += sign

    for msg in msgs:
        if msg.poison:
            continue
        d = json.loads(msg.value)
        bank, eid, reverses, corrects = d["bank_id"], d["event_id"], d.get("reverses"), d.get("corrects")
        key = (bank, eid)
        if key in rows:
            continue  # duplicate or conflicting duplicate: the first copy wins
        categories = d["categories"] if "categories" in d else [d["category"]]
        row = _Row(
            Decimal(d["amount"]),
            d["currency"],
            categories,
            d["counterparty_country"],
            date.fromisoformat(d["value_date"]),
            bank,
            reverses,
            "",
        )
        if corrects is not None:
            # A correction: the original must be a counted, never replaced non-reversal of the
            # same bank already here; then it is taken off and the correction counted instead.
            replaced = rows.get((bank, corrects))
            if (
                corrects == eid
                or replaced is None
                or replaced.reverses is not None
                or replaced.status != "counted"
                or (bank, corrects) in active
            ):
                continue
            row.status = "counted"
            rows[key] = row
            add(row, 1)
            expected.counted_events += 1
            replaced.status = "reversed"
            active[(bank, corrects)] = eid
            add(replaced, -1)
            continue
        if reverses is None:
            row.status = "counted"
            rows[key] = row
            add(row, 1)
            expected.counted_events += 1
            waiting = active.get(key)
            if waiting is not None and rows[(bank, waiting)].status == "pending":
                rev = rows[(bank, waiting)]
                if rev.amount == row.amount and rev.currency == row.currency:
                    rev.status = "applied"
                    row.status = "reversed"
                    add(row, -1)
                else:
                    rev.status = "rejected"
                    del active[key]
            continue
        if reverses == eid:
            continue
        target_key = (bank, reverses)
        target = rows.get(target_key)
        if target is None:
            if target_key not in active:
                row.status = "pending"
                rows[key] = row
                active[target_key] = eid
            continue
        if (
            target.reverses is not None
            or target.status != "counted"
            or target_key in active
            or target.amount != row.amount
            or target.currency != row.currency
        ):
            continue
        row.status = "applied"
        rows[key] = row
        target.status = "reversed"
        active[target_key] = eid
        add(target, -1)
    expected.totals = {k: v for k, v in totals.items() if v != 0}
    expected.counts = {k: v for k, v in counts.items() if v != 0}
    return expected


def totals_from_fields(fields: dict[str, int]) -> Expected:
    """Read the aggregator's summed Redis fields back into the oracle's shape."""
    totals: dict[tuple[str, str, str, str], Decimal] = {}
    counts: dict[tuple[str, str], int] = {}
    for name, value in fields.items():
        parts = name.split("|")
        if value == 0:
            continue
        if parts[0] == "c":
            _, category, currency, grain, label = parts
            totals[(category, currency, grain, label)] = Decimal(value).scaleb(-EXPONENTS[currency])
        elif parts[0] == "n":
            counts[(parts[1], parts[3])] = value
    return Expected(totals=totals, counts=counts)
