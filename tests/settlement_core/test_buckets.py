"""buckets: Redis key/field layout, minimal covers, increments of a batch of effects."""

from __future__ import annotations

import calendar
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from settlement_core.buckets import (
    PARTITIONS_KEY,
    PREFIX,
    Effect,
    Granularity,
    Period,
    applied_at_key,
    bank_field,
    bank_member,
    category_field,
    count_field,
    country_field,
    cover,
    direction_field,
    fence_key,
    hour_field,
    increments_for,
    partition_tag,
    period_label,
    periods_of,
    seen_key,
    seen_member,
    series_periods,
    totals_key,
)
from tests.plan_catalogue import PLAIN, RULES

D, M, Y = Granularity.DAY, Granularity.MONTH, Granularity.YEAR
PROCESSED = datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC)


def days_of(period: Period) -> list[date]:
    return [period.start + timedelta(days=i) for i in range((period.end - period.start).days + 1)]


def hash_tag(key: str) -> str:
    """The Redis Cluster hash tag rule: the text between the first { and the next }."""
    start = key.find("{")
    if start == -1:
        return key
    end = key.find("}", start + 1)
    if end == -1 or end == start + 1:
        return key
    return key[start + 1 : end]


class TestKeys:
    @pytest.mark.parametrize("partition", [0, 1, 11, 12, 255])
    def test_all_keys_of_a_partition_share_one_hash_tag(self, partition: int) -> None:
        keys = [totals_key(partition), fence_key(partition), seen_key(partition), applied_at_key(partition)]
        assert {hash_tag(k) for k in keys} == {f"stl:p{partition}"}
        assert partition_tag(partition) == "{stl:p" + str(partition) + "}"
        assert all(k.startswith(PREFIX) for k in keys)
        assert len(set(keys)) == 4

    def test_exact_key_names(self) -> None:
        assert totals_key(3) == "stl:{stl:p3}:t"
        assert fence_key(3) == "stl:{stl:p3}:fence"
        assert seen_key(3) == "stl:{stl:p3}:seen"
        assert applied_at_key(3) == "stl:{stl:p3}:at"
        assert PARTITIONS_KEY == "stl:partitions"

    def test_partitions_have_distinct_tags(self) -> None:
        assert len({hash_tag(totals_key(p)) for p in range(12)}) == 12
        # p1 and p10 must not be confused by a prefix match.
        assert hash_tag(totals_key(1)) != hash_tag(totals_key(10))


class TestFields:
    def test_names(self) -> None:
        day, month, year = periods_of(date(2020, 3, 4))
        assert category_field("offshore", "USD", day) == "c|offshore|USD|d|2020-03-04"
        assert category_field("offshore", "USD", month) == "c|offshore|USD|m|2020-03"
        assert category_field("offshore", "USD", year) == "c|offshore|USD|y|2020"
        assert bank_field("b1", "offshore", "USD", day) == "b|b1|offshore|USD|d|2020-03-04"
        assert bank_field("b1", "offshore", "USD", month) == "b|b1|offshore|USD|m|2020-03"
        assert bank_field("b1", "offshore", "USD", year) == "b|b1|offshore|USD|y|2020"
        assert direction_field("inbound", "offshore", "USD", 2020) == "r|inbound|offshore|USD|y|2020"
        assert country_field("HK", "offshore", "USD", 2020) == "k|HK|offshore|USD|y|2020"
        assert count_field("offshore", 2020) == "n|offshore|y|2020"
        assert hour_field("offshore", "USD", PROCESSED) == "h|offshore|USD|2020030405"
        assert seen_member("offshore", "USD") == "offshore|USD"
        assert bank_member("b1") == "bank|b1"

    def test_hour_is_utc(self) -> None:
        shanghai = datetime(2020, 3, 4, 13, 6, tzinfo=timezone(timedelta(hours=8)))
        assert hour_field("offshore", "USD", shanghai) == "h|offshore|USD|2020030405"
        new_year = datetime(2021, 1, 1, 7, 59, tzinfo=timezone(timedelta(hours=8)))
        assert hour_field("offshore", "USD", new_year) == "h|offshore|USD|2020123123"
        naive = datetime(2020, 3, 4, 5, 59)  # taken as UTC
        assert hour_field("offshore", "USD", naive) == "h|offshore|USD|2020030405"

    def test_period_labels_are_zero_padded(self) -> None:
        day = date(987, 1, 2)
        assert period_label(day, D) == "0987-01-02"
        assert period_label(day, M) == "0987-01"
        assert period_label(day, Y) == "0987"
        assert count_field("x", 987) == "n|x|y|0987"

    def test_labels_sort_chronologically(self) -> None:
        days = [date(2019, 12, 31), date(2020, 1, 1), date(2020, 2, 9), date(2020, 10, 1)]
        for grain in Granularity:
            labels = [period_label(d, grain) for d in days]
            assert labels == sorted(labels)


class TestPeriod:
    def test_ends(self) -> None:
        assert Period(D, date(2020, 2, 29)).end == date(2020, 2, 29)
        assert Period(M, date(2020, 2, 1)).end == date(2020, 2, 29)
        assert Period(M, date(2021, 2, 1)).end == date(2021, 2, 28)
        assert Period(M, date(2020, 12, 1)).end == date(2020, 12, 31)
        assert Period(Y, date(2020, 1, 1)).end == date(2020, 12, 31)
        assert Period(Y, date(2020, 1, 1)).label == "2020"

    @pytest.mark.parametrize(("grain", "start"), [(M, date(2020, 3, 2)), (Y, date(2020, 2, 1)), (Y, date(2020, 1, 2))])
    def test_misaligned_start_is_refused(self, grain: Granularity, start: date) -> None:
        with pytest.raises(ValueError, match="starts on"):
            Period(grain, start)

    def test_periods_of(self) -> None:
        assert periods_of(date(2020, 3, 4)) == (
            Period(D, date(2020, 3, 4)),
            Period(M, date(2020, 3, 1)),
            Period(Y, date(2020, 1, 1)),
        )


class TestCover:
    def check_tiling(self, start: date, end: date, periods: list[Period]) -> None:
        covered = Counter(day for p in periods for day in days_of(p))
        expected = {start + timedelta(days=i) for i in range((end - start).days + 1)}
        assert set(covered) == expected  # nothing outside the range, nothing missing
        assert all(n == 1 for n in covered.values())  # every day exactly once
        assert [p.start for p in periods] == sorted(p.start for p in periods)

    def test_examples(self) -> None:
        assert cover(date(2020, 1, 1), date(2020, 12, 31)) == [Period(Y, date(2020, 1, 1))]
        assert cover(date(2020, 2, 1), date(2020, 2, 29)) == [Period(M, date(2020, 2, 1))]
        assert cover(date(2020, 3, 4), date(2020, 3, 4)) == [Period(D, date(2020, 3, 4))]
        assert cover(date(2019, 12, 30), date(2021, 2, 2)) == [
            Period(D, date(2019, 12, 30)),
            Period(D, date(2019, 12, 31)),
            Period(Y, date(2020, 1, 1)),
            Period(M, date(2021, 1, 1)),
            Period(D, date(2021, 2, 1)),
            Period(D, date(2021, 2, 2)),
        ]
        assert cover(date(2020, 1, 1), date(2020, 12, 30))[:11] == [Period(M, date(2020, m, 1)) for m in range(1, 12)]
        assert cover(date(2020, 2, 1), date(2020, 2, 28)) == [
            Period(D, date(2020, 2, d)) for d in range(1, 29)
        ]  # leap February not complete

    def test_empty_range(self) -> None:
        assert cover(date(2020, 1, 2), date(2020, 1, 1)) == []

    def test_extremes_of_the_calendar(self) -> None:
        assert cover(date(9999, 1, 1), date.max) == [Period(Y, date(9999, 1, 1))]
        assert cover(date.min, date(1, 1, 31)) == [Period(M, date.min)]
        assert series_periods(date(9999, 12, 30), date.max, D)[-1] == (date.max, date.max)

    def test_property_random_ranges(self) -> None:
        rng = random.Random(20201231)
        origin = date(2015, 1, 1)
        for _ in range(1500):
            start = origin + timedelta(days=rng.randrange(3000))
            end = start + timedelta(days=rng.choice([0, 1, rng.randrange(70), rng.randrange(1200)]))
            periods = cover(start, end)
            self.check_tiling(start, end, periods)
            assert len(periods) == self.fewest(start, end)
            for period in periods:
                # Full years collapse to a year, full months (outside a full year) to a month.
                if period.grain is D:
                    month = Period(M, period.start.replace(day=1))
                    assert not (start <= month.start and month.end <= end)
                if period.grain is M:
                    year = Period(Y, period.start.replace(month=1, day=1))
                    assert not (start <= year.start and year.end <= end)

    @staticmethod
    def fewest(start: date, end: date) -> int:
        """Independent count: whole years, then whole months, then the remaining days."""
        days = {start + timedelta(days=i) for i in range((end - start).days + 1)}
        count = 0
        for year in range(start.year, end.year + 1):
            year_days = {date(year, 1, 1) + timedelta(days=i) for i in range(366 if calendar.isleap(year) else 365)}
            if year_days <= days:
                days -= year_days
                count += 1
        for year in range(start.year, end.year + 1):
            for month in range(1, 13):
                last = calendar.monthrange(year, month)[1]
                month_days = {date(year, month, d) for d in range(1, last + 1)}
                if month_days <= days:
                    days -= month_days
                    count += 1
        return count + len(days)


class TestSeriesPeriods:
    @pytest.mark.parametrize(
        ("grain", "expected"),
        [
            (
                D,
                [
                    (date(2020, 1, 30), date(2020, 1, 30)),
                    (date(2020, 1, 31), date(2020, 1, 31)),
                    (date(2020, 2, 1), date(2020, 2, 1)),
                    (date(2020, 2, 2), date(2020, 2, 2)),
                ],
            ),
            (M, [(date(2020, 1, 30), date(2020, 1, 31)), (date(2020, 2, 1), date(2020, 2, 2))]),
            (Y, [(date(2020, 1, 30), date(2020, 2, 2))]),
        ],
    )
    def test_points_clipped_to_the_range(self, grain: Granularity, expected: list[tuple[date, date]]) -> None:
        assert series_periods(date(2020, 1, 30), date(2020, 2, 2), grain) == expected

    def test_months_and_years(self) -> None:
        months = series_periods(date(2020, 1, 1), date(2020, 12, 31), M)
        assert len(months) == 12
        assert months[1] == (date(2020, 2, 1), date(2020, 2, 29))
        years = series_periods(date(2019, 7, 1), date(2021, 3, 31), Y)
        assert years == [
            (date(2019, 7, 1), date(2019, 12, 31)),
            (date(2020, 1, 1), date(2020, 12, 31)),
            (date(2021, 1, 1), date(2021, 3, 31)),
        ]

    def test_empty_range(self) -> None:
        for grain in Granularity:
            assert series_periods(date(2020, 1, 2), date(2020, 1, 1), grain) == []

    def test_property_contiguous(self) -> None:
        rng = random.Random(5)
        for _ in range(300):
            start = date(2016, 1, 1) + timedelta(days=rng.randrange(2000))
            end = start + timedelta(days=rng.randrange(900))
            for grain in Granularity:
                points = series_periods(start, end, grain)
                assert points[0][0] == start
                assert points[-1][1] == end
                for (_, a_end), (b_start, _) in pairwise(points):
                    assert b_start == a_end + timedelta(days=1)
                for p_start, p_end in points:
                    assert period_label(p_start, grain) == period_label(p_end, grain)


def effect(amount: int, **changes: object) -> Effect:
    values: dict[str, object] = {
        "partition": 3,
        "offset": 10,
        "bank_id": "b1",
        "event_id": "e1",
        "categories": ("offshore",),
        "value_date": date(2020, 3, 4),
        "currency": "USD",
        "direction": "inbound",
        "country": "HK",
        "amount_minor": amount,
        "processed_at": PROCESSED,
    }
    values.update(changes)
    return Effect(**values)  # type: ignore[arg-type]


class TestIncrements:
    def test_one_effect_touches_every_bucket(self) -> None:
        inc = increments_for([effect(12345)], PLAIN)
        assert inc.fields == {
            "c|offshore|USD|d|2020-03-04": 12345,
            "c|offshore|USD|m|2020-03": 12345,
            "c|offshore|USD|y|2020": 12345,
            "b|b1|offshore|USD|d|2020-03-04": 12345,
            "b|b1|offshore|USD|m|2020-03": 12345,
            "b|b1|offshore|USD|y|2020": 12345,
            "r|inbound|offshore|USD|y|2020": 12345,
            "k|HK|offshore|USD|y|2020": 12345,
            "h|offshore|USD|2020030405": 12345,
            "n|offshore|y|2020": 1,
            "c|*|USD|d|2020-03-04": 12345,
            "c|*|USD|m|2020-03": 12345,
            "c|*|USD|y|2020": 12345,
            "b|b1|*|USD|d|2020-03-04": 12345,
            "b|b1|*|USD|m|2020-03": 12345,
            "b|b1|*|USD|y|2020": 12345,
            "n|*|y|2020": 1,
        }
        assert inc.seen == frozenset({"offshore|USD", "*|USD", "bank|b1"})

    def test_sums_per_field(self) -> None:
        inc = increments_for(
            [
                effect(100),
                effect(250, value_date=date(2020, 3, 5), event_id="e2"),
                effect(7, value_date=date(2020, 4, 1), bank_id="b2", direction="outbound", country="SG", event_id="e3"),
                effect(9, currency="EUR", event_id="e4"),
            ],
            PLAIN,
        )
        f = inc.fields
        assert f["c|offshore|USD|y|2020"] == 357
        assert f["c|offshore|USD|m|2020-03"] == 350
        assert f["c|offshore|USD|m|2020-04"] == 7
        assert f["c|offshore|USD|d|2020-03-04"] == 100
        assert f["b|b1|offshore|USD|y|2020"] == 350
        assert f["b|b2|offshore|USD|y|2020"] == 7
        assert f["r|inbound|offshore|USD|y|2020"] == 350
        assert f["r|outbound|offshore|USD|y|2020"] == 7
        assert f["k|SG|offshore|USD|y|2020"] == 7
        assert f["c|offshore|EUR|y|2020"] == 9
        assert f["n|offshore|y|2020"] == 4  # counts are per category, all currencies
        assert inc.seen == frozenset({"offshore|USD", "offshore|EUR", "*|USD", "*|EUR", "bank|b1", "bank|b2"})

    def test_an_event_counts_in_full_toward_each_category_and_once_in_distinct(self) -> None:
        inc = increments_for([effect(10000, categories=("cross_border_rmb", "offshore"))], PLAIN)
        f = inc.fields
        assert f["c|offshore|USD|y|2020"] == f["c|cross_border_rmb|USD|y|2020"] == 10000
        assert f["n|offshore|y|2020"] == f["n|cross_border_rmb|y|2020"] == 1
        assert f["c|*|USD|y|2020"] == 10000
        assert f["n|*|y|2020"] == 1
        both = ("cross_border_rmb", "offshore")
        reversed_ = increments_for(
            [effect(10000, categories=both), effect(-10000, offset=11, event_id="r1", categories=both)], PLAIN
        )
        assert reversed_.fields == {}  # the reversal takes the amount off both and off the distinct volume

    def test_rules_add_a_target_without_touching_the_distinct_volume(self) -> None:
        ecommerce = effect(500, categories=("cross_border_ecommerce",), currency="CNY", country="SG")
        plain = increments_for([ecommerce], PLAIN).fields
        ruled = increments_for([ecommerce], RULES).fields
        assert "c|cross_border_rmb|CNY|y|2020" not in plain
        assert ruled["c|cross_border_rmb|CNY|y|2020"] == 500
        assert ruled["c|cross_border_ecommerce|CNY|y|2020"] == 500
        assert ruled["c|*|CNY|y|2020"] == plain["c|*|CNY|y|2020"] == 500
        domestic = effect(500, categories=("cross_border_ecommerce",), currency="CNY", country="CN")
        assert "c|cross_border_rmb|CNY|y|2020" not in increments_for([domestic], RULES).fields
        dollars = effect(500, categories=("cross_border_ecommerce",), currency="USD", country="SG")
        assert "c|cross_border_rmb|USD|y|2020" not in increments_for([dollars], RULES).fields

    def test_reversal_subtracts_amount_and_count(self) -> None:
        inc = increments_for([effect(100), effect(30, event_id="e2"), effect(-100, event_id="r1", offset=11)], PLAIN)
        assert inc.fields["c|offshore|USD|y|2020"] == 30
        assert inc.fields["n|offshore|y|2020"] == 1
        alone = increments_for([effect(-100)], PLAIN)
        assert alone.fields["c|offshore|USD|d|2020-03-04"] == -100
        assert alone.fields["n|offshore|y|2020"] == -1

    def test_fields_that_net_to_zero_are_dropped(self) -> None:
        inc = increments_for([effect(100), effect(-100, offset=11)], PLAIN)
        assert inc.fields == {}
        assert inc.seen == frozenset({"offshore|USD", "*|USD", "bank|b1"})

    def test_zero_effect_counts_nothing(self) -> None:
        assert increments_for([effect(0)], PLAIN).fields == {}

    def test_empty_batch(self) -> None:
        inc = increments_for([], PLAIN)
        assert inc.fields == {}
        assert inc.seen == frozenset()

    def test_accepts_a_generator_and_sums_match_random_batches(self) -> None:
        rng = random.Random(99)
        effects = [
            effect(
                rng.choice([1, -1]) * rng.randrange(1, 10**12),
                value_date=date(2019, 1, 1) + timedelta(days=rng.randrange(730)),
                bank_id=rng.choice(["b1", "b2", "b3"]),
                offset=i,
            )
            for i in range(500)
        ]
        inc = increments_for((e for e in effects), PLAIN)
        for year in (2019, 2020):
            total = sum(e.amount_minor for e in effects if e.value_date.year == year)
            count = sum(1 if e.amount_minor > 0 else -1 for e in effects if e.value_date.year == year)
            assert inc.fields.get(f"c|offshore|USD|y|{year}", 0) == total
            assert inc.fields.get(f"n|offshore|y|{year}", 0) == count
            months = sum(v for k, v in inc.fields.items() if k.startswith(f"c|offshore|USD|m|{year}-"))
            days = sum(v for k, v in inc.fields.items() if k.startswith(f"c|offshore|USD|d|{year}-"))
            assert months == days == total
        banks = sum(v for k, v in inc.fields.items() if k.startswith("b|") and "|y|" in k and "|*|" not in k)
        assert banks == sum(e.amount_minor for e in effects)
        distinct = sum(v for k, v in inc.fields.items() if k.startswith("b|") and "|*|USD|y|" in k)
        assert distinct == sum(e.amount_minor for e in effects)
        assert all(type(v) is int for v in inc.fields.values())

    def test_fields_are_unambiguous(self) -> None:
        # Every field splits back into its parts on "|" (ids cannot contain "|").
        inc = increments_for([effect(5)], PLAIN)
        for name in inc.fields:
            kind = name.split("|", 1)[0]
            assert {"c": 5, "b": 6, "r": 6, "k": 6, "h": 4, "n": 4}[kind] == len(name.split("|"))


def seed_rule_categories(e: Effect) -> tuple[str, ...]:
    """The shipped catalogue's one enabled add rule, written out independently: RMB
    e-commerce and cash-pool flows with a foreign counterparty are cross-border RMB too."""
    triggers = {"cross_border_ecommerce", "mnc_headquarters"} & set(e.categories)
    extra = {"cross_border_rmb"} if triggers and e.currency == "CNY" and e.country != "CN" else set()
    return tuple(sorted(set(e.categories) | extra))


def reference_increments(
    effects: list[Effect], counts_toward: Callable[[Effect], tuple[str, ...]] = lambda e: e.categories
) -> tuple[dict[str, int], frozenset[str]]:
    """Independent, straightforward computation: every field of every effect built with the
    public field-name functions (the reader's functions), summed one effect at a time and one
    category at a time, plus the DISTINCT fields once per effect."""
    fields: dict[str, int] = {}

    def add(name: str, amount: int) -> None:
        fields[name] = fields.get(name, 0) + amount

    seen: set[str] = set()
    for e in effects:
        periods = (
            Period(D, e.value_date),
            Period(M, date(e.value_date.year, e.value_date.month, 1)),
            Period(Y, date(e.value_date.year, 1, 1)),
        )
        sign = 1 if e.amount_minor > 0 else -1 if e.amount_minor < 0 else 0
        for category in counts_toward(e):
            for period in periods:
                add(category_field(category, e.currency, period), e.amount_minor)
                add(bank_field(e.bank_id, category, e.currency, period), e.amount_minor)
            add(direction_field(e.direction, category, e.currency, e.value_date.year), e.amount_minor)
            add(country_field(e.country, category, e.currency, e.value_date.year), e.amount_minor)
            add(hour_field(category, e.currency, e.processed_at), e.amount_minor)
            add(count_field(category, e.value_date.year), sign)
            seen.add(seen_member(category, e.currency))
        for period in periods:
            add(category_field("*", e.currency, period), e.amount_minor)
            add(bank_field(e.bank_id, "*", e.currency, period), e.amount_minor)
        add(count_field("*", e.value_date.year), sign)
        seen.add(seen_member("*", e.currency))
        seen.add(bank_member(e.bank_id))
    return {k: v for k, v in fields.items() if v != 0}, frozenset(seen)


def random_effects(rng: random.Random, n: int) -> list[Effect]:
    categories = [
        "cross_border_rmb",
        "cross_border_ecommerce",
        "mnc_headquarters",
        "offshore",
        "factor_market",
        "corporate_account",
    ]
    currencies = ["CNY", "USD", "EUR", "HKD", "JPY", "KWD", "GBP"]
    special_days = [
        date(2020, 2, 29),
        date(2024, 2, 29),
        date(2019, 12, 31),
        date(2020, 1, 1),
        date(2023, 12, 31),
        date(987, 6, 5),
        date(9999, 12, 31),
        date(1, 1, 1),
    ]
    stamps = [
        datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC),
        datetime(2021, 1, 1, 7, 59, tzinfo=timezone(timedelta(hours=8))),
        datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2022, 6, 1, 12, 0),
    ]  # naive: taken as UTC
    effects: list[Effect] = []
    for i in range(n):
        if rng.random() < 0.1:
            day = rng.choice(special_days)
        else:
            day = date(2016, 1, 1) + timedelta(days=rng.randrange(365 * 10))
        amount = rng.choice([rng.randrange(1, 10**4), rng.randrange(1, 10**15), 0])
        if rng.random() < 0.3:
            amount = -amount  # a reversal: minus the original's amount
        at = (
            rng.choice(stamps)
            if rng.random() < 0.8
            else (datetime(2015, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**7)))
        )
        effects.append(
            effect(
                amount,
                offset=i,
                event_id=f"e{i}",
                bank_id=rng.choice(["b1", "b2", "bank.x-3"]),
                categories=tuple(sorted(rng.sample(categories, rng.choice([1, 1, 1, 2, 3, 6])))),
                currency=rng.choice(currencies),
                value_date=day,
                direction=rng.choice(["inbound", "outbound"]),
                country=rng.choice(["HK", "SG", "US", "CN"]),
                processed_at=at,
            )
        )
    return effects


class TestIncrementsAgainstReference:
    @pytest.mark.parametrize("seed", range(8))
    def test_random_batches_match_the_straightforward_computation(self, seed: int) -> None:
        rng = random.Random(seed)
        for size in (1, 2, 17, rng.randrange(200, 3000)):
            effects = random_effects(rng, size)
            if size > 1 and rng.random() < 0.5:
                # Reverse some of them in the same batch, so that fields net to zero.
                effects += [
                    effect(
                        -e.amount_minor,
                        offset=size + j,
                        event_id=f"r{j}",
                        bank_id=e.bank_id,
                        categories=e.categories,
                        currency=e.currency,
                        value_date=e.value_date,
                        direction=e.direction,
                        country=e.country,
                        processed_at=e.processed_at,
                    )
                    for j, e in enumerate(effects[: size // 2])
                ]
            expected_fields, expected_seen = reference_increments(effects)
            inc = increments_for(iter(effects), PLAIN)
            assert inc.fields == expected_fields
            assert inc.seen == expected_seen
            # With the shipped rules: derived categories counted in full, DISTINCT unchanged.
            ruled_fields, ruled_seen = reference_increments(effects, seed_rule_categories)
            ruled = increments_for(iter(effects), RULES)
            assert ruled.fields == ruled_fields
            assert ruled.seen == ruled_seen
            assert all(type(v) is int and v != 0 for v in inc.fields.values())

    @pytest.mark.parametrize("seed", range(4))
    def test_dense_batches_roll_days_up_into_months_and_years_exactly(self, seed: int) -> None:
        # Many effects on few banks, days and months: every group has several days per
        # month and several months per year, the case the month/year roll-up sums.
        rng = random.Random(1000 + seed)
        effects = [
            replace(
                e, value_date=date(2020, 1, 1) + timedelta(days=rng.randrange(75)), bank_id=rng.choice(["b1", "b2"])
            )
            for e in random_effects(rng, 2000)
        ]
        expected_fields, expected_seen = reference_increments(effects, seed_rule_categories)
        inc = increments_for(effects, RULES)
        assert inc.fields == expected_fields
        assert inc.seen == expected_seen
