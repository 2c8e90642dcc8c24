"""money: strict decimal-string parsing, exact minor units, never a float."""

from __future__ import annotations

import random
from decimal import Decimal, localcontext

import pytest

from settlement_core.money import (
    MINOR_UNITS,
    AmountError,
    format_amount,
    from_minor,
    max_amount_chars,
    minor_units,
    parse_amount,
    to_minor,
)

MAX = Decimal(10) ** 15


class TestMinorUnits:
    @pytest.mark.parametrize(
        ("currency", "exponent"),
        [
            ("CNY", 2),
            ("USD", 2),
            ("EUR", 2),
            ("HKD", 2),
            ("GBP", 2),
            ("SGD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("VND", 0),
            ("KWD", 3),
            ("BHD", 3),
        ],
    )
    def test_iso_4217_exponents(self, currency: str, exponent: int) -> None:
        assert minor_units(currency) == exponent

    @pytest.mark.parametrize("currency", ["", "cny", "XXX", "CNH", "US D", "USD "])
    def test_unknown_currency(self, currency: str) -> None:
        with pytest.raises(AmountError, match="unknown currency"):
            minor_units(currency)

    def test_table_is_iso_codes_with_sane_exponents(self) -> None:
        for code, exponent in MINOR_UNITS.items():
            assert len(code) == 3
            assert code.isascii()
            assert code.isupper()
            assert exponent in (0, 2, 3)


class TestParseAmountAccepts:
    @pytest.mark.parametrize(
        ("text", "currency", "expected"),
        [
            ("1234.56", "CNY", Decimal("1234.56")),
            ("10", "CNY", Decimal("10")),
            ("10.5", "CNY", Decimal("10.5")),
            ("0.01", "CNY", Decimal("0.01")),
            ("0.1", "USD", Decimal("0.1")),
            ("1", "JPY", Decimal(1)),
            ("123456789", "JPY", Decimal(123456789)),
            ("0.001", "KWD", Decimal("0.001")),
            ("12.345", "KWD", Decimal("12.345")),
            ("12.3", "BHD", Decimal("12.3")),
            ("1000000000000000", "CNY", MAX),  # the bound itself is allowed
            ("999999999999999.99", "CNY", Decimal("999999999999999.99")),
        ],
    )
    def test_valid(self, text: str, currency: str, expected: Decimal) -> None:
        value = parse_amount(text, currency, MAX)
        assert type(value) is Decimal
        assert value == expected
        # The exact digits survive: no float round trip ever happened.
        assert str(value) == text

    def test_many_significant_digits_stay_exact(self) -> None:
        # 17 significant digits: a float would have lost the last cent.
        text = "9007199254740993.01"
        assert parse_amount(text, "CNY", Decimal(10) ** 17) == Decimal(text)
        assert to_minor(parse_amount(text, "CNY", Decimal(10) ** 17), "CNY") == 900719925474099301

    def test_independent_of_a_low_precision_context(self) -> None:
        with localcontext() as ctx:
            ctx.prec = 3
            assert parse_amount("123456.78", "CNY", MAX) == Decimal("123456.78")
            assert to_minor(Decimal("123456.78"), "CNY") == 12345678


class TestParseAmountRejects:
    @pytest.mark.parametrize(
        "value",
        [10, 10.5, 0, 1e3, True, False, None, Decimal("10"), b"10", ["10"], {"v": "10"}],
    )
    def test_non_strings(self, value: object) -> None:
        with pytest.raises(AmountError, match="decimal string"):
            parse_amount(value, "CNY", MAX)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "text",
        [
            "-10",
            "+10",
            "-0.01",
            "1e3",
            "1E3",
            "1e-2",
            "1.5e2",
            "Infinity",
            "inf",
            "NaN",
            "sNaN",
            "",
            " ",
            " 10",
            "10 ",
            "10\n",
            "\n10",
            "10\t",
            "1 000",
            "1,000",
            "1_000",
            "10.",
            ".5",
            "0x10",
            "010",
            "00.5",
            "00",
            "1.2.3",
            "１０",  # fullwidth digits
            "١٠",  # Arabic-Indic digits
            "10.0.",
            "--1",
            "1-",
            "¥10",
            "10元",
            "10CNY",
        ],
    )
    def test_malformed_text(self, text: str) -> None:
        with pytest.raises(AmountError, match="plain decimal string"):
            parse_amount(text, "CNY", MAX)

    @pytest.mark.parametrize("text", ["0", "0.0", "0.00"])
    def test_zero(self, text: str) -> None:
        with pytest.raises(AmountError, match="greater than 0"):
            parse_amount(text, "CNY", MAX)

    @pytest.mark.parametrize(
        ("text", "currency"),
        [
            ("10.001", "CNY"),
            ("0.001", "USD"),
            ("10.000", "EUR"),
            ("1.5", "JPY"),
            ("1.0", "JPY"),
            ("100.00", "KRW"),
            ("1.2345", "KWD"),
            ("0.0001", "BHD"),
        ],
    )
    def test_too_many_decimals_for_the_currency(self, text: str, currency: str) -> None:
        # Trailing zeros count too: the bank must send the currency's form, nothing is rounded.
        with pytest.raises(AmountError, match=f"{currency} allows at most"):
            parse_amount(text, currency, MAX)

    @pytest.mark.parametrize("text", ["1000000000000000.01", "1000000000000001", "9" * 40])
    def test_above_the_maximum(self, text: str) -> None:
        with pytest.raises(AmountError, match="exceeds the maximum"):
            parse_amount(text, "CNY", MAX)

    def test_unknown_currency(self) -> None:
        with pytest.raises(AmountError, match="unknown currency"):
            parse_amount("10", "XYZ", MAX)

    @pytest.mark.parametrize("text", ["1" + "0" * 5000, "9" * 41, "1" * 10**6, "1" * 10**6 + ".25"])
    def test_overlong_text_exceeds_the_maximum(self, text: str) -> None:
        with pytest.raises(AmountError, match="exceeds the maximum"):
            parse_amount(text, "CNY", MAX)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("0." + "0" * 5000 + "1", "CNY allows at most 2"),
            ("0." + "0" * 5000, "greater than 0"),
            ("1" * 5000 + "e3", "plain decimal string"),
        ],
    )
    def test_overlong_text_answers_as_the_conversion_would(self, text: str, message: str) -> None:
        with pytest.raises(AmountError, match=message):
            parse_amount(text, "CNY", MAX)

    def test_the_length_bound_follows_the_maximum(self) -> None:
        assert max_amount_chars(Decimal(10) ** 15) == 20
        assert parse_amount("1" + "0" * 15, "CNY", Decimal(10) ** 15) == Decimal(10) ** 15
        assert parse_amount("0.001", "KWD", Decimal(10) ** 15) == Decimal("0.001")

    @pytest.mark.parametrize("text", ["١٢٣", "１２３", "１２３.００", "१२.३०", "12٣", "٠.٥", "1E+3", "1.5E-2", "2e0"])
    def test_unicode_digits_and_exponents(self, text: str) -> None:
        with pytest.raises(AmountError, match="plain decimal string"):
            parse_amount(text, "CNY", MAX)


class TestMinorConversion:
    @pytest.mark.parametrize(
        ("amount", "currency", "units"),
        [
            (Decimal("1234.56"), "CNY", 123456),
            (Decimal("10"), "CNY", 1000),
            (Decimal("10.5"), "USD", 1050),
            (Decimal("0.01"), "CNY", 1),
            (Decimal("1000"), "JPY", 1000),
            (Decimal("1E+3"), "JPY", 1000),
            (Decimal("1.234"), "KWD", 1234),
            (Decimal("10.500"), "CNY", 1050),  # trailing zeros are exact, not sub-minor
            (Decimal("-12.34"), "CNY", -1234),  # reversals are negative effects
            (Decimal("0"), "CNY", 0),
        ],
    )
    def test_to_minor(self, amount: Decimal, currency: str, units: int) -> None:
        result = to_minor(amount, currency)
        assert type(result) is int
        assert result == units

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [
            (Decimal("0.001"), "CNY"),
            (Decimal("1.5"), "JPY"),
            (Decimal("0.0001"), "KWD"),
            (Decimal("12.345"), "USD"),
            (Decimal("-0.005"), "CNY"),
        ],
    )
    def test_to_minor_refuses_sub_minor_digits(self, amount: Decimal, currency: str) -> None:
        with pytest.raises(AmountError, match="more decimals"):
            to_minor(amount, currency)

    @pytest.mark.parametrize("amount", [Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN")])
    def test_to_minor_refuses_non_finite(self, amount: Decimal) -> None:
        with pytest.raises(AmountError):
            to_minor(amount, "CNY")

    def test_to_minor_is_exact_beyond_the_default_precision(self) -> None:
        # 31 significant digits: more than the default context's 28 must not be rounded away.
        amount = Decimal("12345678901234567890123456789.12")
        assert to_minor(amount, "CNY") == 1234567890123456789012345678912
        with pytest.raises(AmountError):
            to_minor(Decimal("12345678901234567890123456789.123"), "CNY")

    @pytest.mark.parametrize(
        ("units", "currency", "text"),
        [
            (123456, "CNY", "1234.56"),
            (1, "CNY", "0.01"),
            (0, "CNY", "0.00"),
            (-5, "USD", "-0.05"),
            (1000, "JPY", "1000"),
            (1234, "KWD", "1.234"),
            (10**30, "CNY", "1" + "0" * 28 + ".00"),
        ],
    )
    def test_from_minor(self, units: int, currency: str, text: str) -> None:
        value = from_minor(units, currency)
        assert type(value) is Decimal
        assert str(value) == text
        assert value.as_tuple().exponent == -minor_units(currency)

    def test_round_trips(self) -> None:
        rng = random.Random(4217)
        for _ in range(2000):
            currency = rng.choice(sorted(MINOR_UNITS))
            units = rng.choice([rng.randint(-(10**6), 10**6), rng.randint(-(10**20), 10**20), rng.randint(1, 10**40)])
            amount = from_minor(units, currency)
            assert to_minor(amount, currency) == units
            text = format_amount(amount, currency)
            assert Decimal(text) == amount
            if units > 0:
                max_units = Decimal(10) ** 45
                assert to_minor(parse_amount(text, currency, max_units), currency) == units


class TestFormatAmount:
    @pytest.mark.parametrize(
        ("amount", "currency", "text"),
        [
            (Decimal("10"), "CNY", "10.00"),
            (Decimal("10.00"), "CNY", "10.00"),
            (Decimal("10.5"), "CNY", "10.50"),
            (Decimal("10.500"), "CNY", "10.50"),
            (Decimal("1E+3"), "CNY", "1000.00"),
            (Decimal("1000"), "JPY", "1000"),
            (Decimal("0.5"), "KWD", "0.500"),
            (Decimal("600000000000"), "USD", "600000000000.00"),
            (Decimal("5000000000000"), "CNY", "5000000000000.00"),
        ],
    )
    def test_canonical_text(self, amount: Decimal, currency: str, text: str) -> None:
        assert format_amount(amount, currency) == text

    @pytest.mark.parametrize(("amount", "currency"), [(Decimal("10.005"), "CNY"), (Decimal("0.5"), "JPY")])
    def test_never_rounds(self, amount: Decimal, currency: str) -> None:
        # Rounding here would let "10.005" and "10.00" hash as the same event body.
        with pytest.raises(AmountError):
            format_amount(amount, currency)

    def test_large_amounts_need_no_wide_context(self) -> None:
        assert format_amount(Decimal(10) ** 30, "CNY") == "1" + "0" * 30 + ".00"


class TestFormatAmountMatchesIntegerScaling:
    """format_amount works on the text for speed; it must equal the plain definition:
    scale to integer minor units (exactly, or refuse) and back."""

    @staticmethod
    def reference(amount: Decimal, currency: str) -> str:
        return f"{from_minor(to_minor(amount, currency), currency):f}"

    def test_random_amounts(self) -> None:
        rng = random.Random(7)
        for _ in range(20000):
            currency = rng.choice(sorted(MINOR_UNITS))
            digits = rng.randrange(0, 10 ** rng.randint(1, 30))
            amount = Decimal(rng.choice([1, -1]) * digits).scaleb(rng.randint(-6, 4))
            try:
                expected = self.reference(amount, currency)
            except AmountError:
                with pytest.raises(AmountError):
                    format_amount(amount, currency)
            else:
                assert format_amount(amount, currency) == expected, (amount, currency)

    @pytest.mark.parametrize("amount", ["0", "-0", "-0.000", "0E+5", "-0E-9", "1E+20", "-1.50"])
    def test_edges(self, amount: str) -> None:
        assert format_amount(Decimal(amount), "CNY") == self.reference(Decimal(amount), "CNY")

    @pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
    def test_non_finite(self, amount: str) -> None:
        with pytest.raises(AmountError):
            format_amount(Decimal(amount), "CNY")


def test_no_float_in_the_module() -> None:
    import inspect

    import settlement_core.money as money

    source = inspect.getsource(money)
    assert "float(" not in source
