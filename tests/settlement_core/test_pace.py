"""pace: expected ratio, pace, projection and status, all exact Decimal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import pytest

from settlement_core.catalogue import Target
from settlement_core.pace import (
    RATIO_QUANTUM,
    PaceStatus,
    Progress,
    effective_as_of,
    elapsed_days,
    progress,
)

PACE = Decimal("0.9")


def target(
    amount: int = 600_000_000_000, start: date = date(2020, 1, 1), end: date = date(2020, 12, 31), currency: str = "USD"
) -> Target:
    return Target(
        code="offshore",
        period="2020",
        name_zh="离岸金融结算",
        name_en="Offshore",
        amount=amount,
        currency=currency,
        display="6000亿美元",
        window_start=start,
        window_end=end,
        source="到 2020年，力争离岸金融结算规模达到 6000亿美元。",
    )


T2020 = target()


def assert_decimals(result: Progress) -> None:
    for value in (result.progress_ratio, result.expected_ratio, result.pace, result.projected_total):
        assert value is None or type(value) is Decimal


class TestElapsed:
    @pytest.mark.parametrize(
        ("as_of", "days"),
        [
            (date(2019, 12, 31), 0),
            (date(2020, 1, 1), 1),
            (date(2020, 1, 31), 31),
            (date(2020, 2, 29), 60),
            (date(2020, 3, 1), 61),
            (date(2020, 7, 1), 183),
            (date(2020, 12, 31), 366),
            (date(2021, 6, 1), 366),
        ],
    )
    def test_counts_as_of_itself_and_caps_at_the_window(self, as_of: date, days: int) -> None:
        assert elapsed_days(T2020, as_of) == days

    def test_effective_as_of(self) -> None:
        assert effective_as_of(T2020, date(2021, 3, 1)) == date(2020, 12, 31)
        assert effective_as_of(T2020, date(2020, 3, 1)) == date(2020, 3, 1)
        assert effective_as_of(T2020, date(2019, 3, 1)) == date(2019, 3, 1)

    def test_leap_year_window(self) -> None:
        assert T2020.window_days == 366
        assert target(start=date(2021, 1, 1), end=date(2021, 12, 31)).window_days == 365


class TestExpectedRatio:
    @pytest.mark.parametrize(
        ("as_of", "expected"),
        [
            (date(2020, 1, 1), "0.002732"),  # 1/366
            (date(2020, 2, 29), "0.163934"),  # 60/366
            (date(2020, 7, 1), "0.500000"),  # 183/366: half of a leap year
            (date(2020, 12, 30), "0.997268"),  # 365/366
            (date(2020, 12, 31), "1.000000"),
            (date(2022, 1, 1), "1.000000"),  # capped at the window end
            (date(2019, 12, 31), "0.000000"),  # before the window
        ],
    )
    def test_expected(self, as_of: date, expected: str) -> None:
        result = progress(T2020, Decimal(0), as_of, PACE)
        assert result.expected_ratio == Decimal(expected)
        assert str(result.expected_ratio) == expected
        assert result.expected_ratio.as_tuple().exponent == RATIO_QUANTUM.as_tuple().exponent

    def test_non_leap_year_half(self) -> None:
        t2021 = target(start=date(2021, 1, 1), end=date(2021, 12, 31))
        assert progress(t2021, Decimal(0), date(2021, 7, 2), PACE).expected_ratio == Decimal("0.501370")  # 183/365


class TestProgress:
    def test_on_schedule_at_half_year(self) -> None:
        result = progress(T2020, Decimal(300_000_000_000), date(2020, 7, 1), PACE)
        assert result == Progress(
            as_of=date(2020, 7, 1),
            progress_ratio=Decimal("0.500000"),
            expected_ratio=Decimal("0.500000"),
            pace=Decimal("1.000000"),
            projected_total=Decimal("600000000000.00"),
            status=PaceStatus.ON_TRACK,
        )
        assert_decimals(result)

    def test_projection_uses_the_exact_elapsed_fraction(self) -> None:
        # 1 day of 366 elapsed: projection = settled * 366, pace = ratio * 366.
        result = progress(T2020, Decimal("1000000.01"), date(2020, 1, 1), PACE)
        assert result.projected_total == Decimal("366000003.66")
        assert result.pace == Decimal("0.000610")  # 1000000.01 * 366 / 6e11
        assert result.progress_ratio == Decimal("0.000002")
        assert result.status is PaceStatus.BEHIND

    def test_projection_is_rounded_half_even_to_cents(self) -> None:
        # 0.005 * 366 / 183 = 0.01 exactly; 0.00125 * 2 = 0.0025 -> 0.00 (half-even).
        assert progress(T2020, Decimal("0.00125"), date(2020, 7, 1), PACE).projected_total == Decimal("0.00")
        assert progress(T2020, Decimal("0.00375"), date(2020, 7, 1), PACE).projected_total == Decimal("0.01")

    def test_before_the_window_nothing_is_due(self) -> None:
        result = progress(T2020, Decimal(0), date(2019, 6, 1), PACE)
        assert result.as_of == date(2019, 6, 1)
        assert result.pace is None
        assert result.projected_total is None
        assert result.expected_ratio == 0
        assert result.status is PaceStatus.ON_TRACK

    def test_before_the_window_with_early_volume(self) -> None:
        result = progress(T2020, Decimal(6 * 10**11), date(2019, 6, 1), PACE)
        assert result.status is PaceStatus.ACHIEVED
        assert result.progress_ratio == 1

    def test_after_the_window_as_of_is_capped(self) -> None:
        result = progress(T2020, Decimal(450_000_000_000), date(2021, 3, 1), PACE)
        assert result.as_of == date(2020, 12, 31)
        assert result.expected_ratio == 1
        assert result.pace == Decimal("0.750000")
        assert result.projected_total == Decimal("450000000000.00")  # the final figure
        assert result.status is PaceStatus.MISSED

    def test_a_closed_window_short_of_the_target_is_missed_even_above_the_pace(self) -> None:
        settled = Decimal(580_000_000_000)  # 96.7% of the target, pace 0.967 >= 0.9
        assert progress(T2020, settled, date(2020, 12, 31), PACE).status is PaceStatus.ON_TRACK
        assert progress(T2020, settled, date(2021, 1, 1), PACE).status is PaceStatus.MISSED

    @pytest.mark.parametrize("settled", [Decimal(0), Decimal(-5), Decimal("599999999999.99"), Decimal(6 * 10**11)])
    def test_a_closed_window_is_achieved_or_missed_never_behind_or_on_track(self, settled: Decimal) -> None:
        status = progress(T2020, settled, date(2021, 1, 5), PACE).status
        assert status is (PaceStatus.ACHIEVED if settled >= 6 * 10**11 else PaceStatus.MISSED)

    @pytest.mark.parametrize(
        ("settled", "status"),
        [
            (Decimal(600_000_000_000), PaceStatus.ACHIEVED),  # exactly the target
            (Decimal("600000000000.01"), PaceStatus.ACHIEVED),
            (Decimal("599999999999.99"), PaceStatus.ON_TRACK),
            (Decimal(270_000_000_000), PaceStatus.ON_TRACK),  # pace exactly 0.9 at mid-year
            (Decimal("269999999999.99"), PaceStatus.BEHIND),  # pace just under 0.9
            (Decimal(0), PaceStatus.BEHIND),
            (Decimal(-5), PaceStatus.BEHIND),  # reversals exceeding volume
        ],
    )
    def test_status_thresholds(self, settled: Decimal, status: PaceStatus) -> None:
        assert progress(T2020, settled, date(2020, 7, 1), PACE).status is status

    def test_threshold_is_compared_exactly_not_after_rounding(self) -> None:
        # pace = 0.89999999... rounds to 0.900000 for display but is below the threshold.
        settled = Decimal("269999999999.99")
        result = progress(T2020, settled, date(2020, 7, 1), PACE)
        assert result.pace == Decimal("0.900000")
        assert result.status is PaceStatus.BEHIND

    @pytest.mark.parametrize("threshold", ["0", "0.5", "1", "1.2"])
    def test_configurable_threshold(self, threshold: str) -> None:
        result = progress(T2020, Decimal(300_000_000_000), date(2020, 7, 1), Decimal(threshold))
        expected = PaceStatus.ON_TRACK if Decimal(threshold) <= 1 else PaceStatus.BEHIND
        assert result.status is expected

    def test_ratio_rounding_half_even(self) -> None:
        # 0.0000005 exactly -> 0.000000; 0.0000015 -> 0.000002.
        t = target(amount=10_000_000)
        assert progress(t, Decimal(5), date(2020, 7, 1), PACE).progress_ratio == Decimal(0)
        assert progress(t, Decimal(15), date(2020, 7, 1), PACE).progress_ratio == Decimal("0.000002")

    def test_independent_of_the_thread_context(self) -> None:
        expected = progress(T2020, Decimal("123456789012.34"), date(2020, 5, 17), PACE)
        with localcontext() as ctx:
            ctx.prec = 4
            assert progress(T2020, Decimal("123456789012.34"), date(2020, 5, 17), PACE) == expected
        assert expected.projected_total == Decimal("327428875206.64")  # *366/138

    def test_one_day_window(self) -> None:
        t = target(amount=100, start=date(2020, 5, 1), end=date(2020, 5, 1))
        result = progress(t, Decimal(50), date(2020, 5, 1), PACE)
        assert (result.expected_ratio, result.pace, result.projected_total) == (
            Decimal("1.000000"),
            Decimal("0.500000"),
            Decimal("50.00"),
        )
        assert result.status is PaceStatus.BEHIND

    def test_projection_uses_the_target_currency_minor_unit(self) -> None:
        # A JPY target projects whole yen (format_amount refuses sub-minor digits).
        t = target(amount=10**9, currency="JPY")
        result = progress(t, Decimal(1001), date(2020, 7, 1), PACE)  # 1001 * 366 / 183
        assert result.projected_total == Decimal(2002)
        assert result.projected_total.as_tuple().exponent == 0
        kwd = progress(target(amount=10**6, currency="KWD"), Decimal("0.0015"), date(2020, 7, 1), PACE)
        assert kwd.projected_total == Decimal("0.003")
