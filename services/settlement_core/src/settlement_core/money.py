"""Exact money: decimal strings in, integer minor units inside, never float.

ISO 4217 minor-unit exponents decide how many decimals an amount may carry and how it
maps to the integer minor units stored in Redis buckets.
"""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

# ISO 4217 exponents for the currencies a bank may plausibly send. Intake accepts only
# the configured subset (settings.accepted_currencies), which must be drawn from here.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "HKD": 2,
    "JPY": 0,
    "GBP": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "KRW": 0,
    "MOP": 2,
    "TWD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "RUB": 2,
    "THB": 2,
    "MYR": 2,
    "IDR": 2,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
}

# Matched with fullmatch: `$` alone would also accept a trailing newline ("10\n"). The
# class is spelled [0-9], never \d: \d also matches Arabic-Indic (١٢٣), fullwidth (１２３)
# and every other Unicode digit, which Decimal() would then happily read as 123.
AMOUNT_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_MOST_MINOR_DIGITS = 3  # KWD, BHD: the most decimals any currency here has


def max_amount_chars(max_units: Decimal) -> int:
    """The longest text a valid amount up to `max_units` can have (20 for 10^15: 16 digits,
    a point, 3 decimals). Longer text is refused before any conversion, so a 5,000-digit
    string costs nothing; an unbounded maximum (trusted re-decoding) has no length bound."""
    if not max_units.is_finite():
        return MAX_PREC
    return len(f"{max_units:f}".split(".", 1)[0]) + 1 + _MOST_MINOR_DIGITS


# Scaling by a power of ten must never round, whatever the thread's decimal context is.
_UNBOUNDED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


class AmountError(ValueError):
    """An amount that is not a valid positive decimal string for its currency."""


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise AmountError(f"unknown currency {currency!r}") from None


def parse_amount(text: str, currency: str, max_units: Decimal) -> Decimal:
    """Parse a bank-supplied amount string; reject anything ambiguous rather than round it.

    The checks and their messages are the client library's too (settlement_client mirrors
    them), in this order: format, > 0, decimals, maximum. Text longer than any valid amount
    is decided without converting it (the regex is linear; Decimal() of a 10^6-digit string
    is not free), with the answer the conversion would have given.
    """
    if not isinstance(text, str):
        raise AmountError('amount must be a decimal string such as "1234.56", not a JSON number')
    # [0-9] only: Arabic-Indic, fullwidth and other Unicode digits, exponents, signs and
    # spaces all fail here.
    if not AMOUNT_PATTERN.fullmatch(text):
        raise AmountError('amount must be a plain decimal string like "1234.56" (no sign, exponent or spaces)')
    if not text.strip("0."):
        raise AmountError("amount must be greater than 0")
    exponent = minor_units(currency)
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    if decimals > exponent:
        raise AmountError(f"{currency} allows at most {exponent} decimal places")
    # Past the decimals check, text longer than the longest valid amount has more integer
    # digits than the maximum (no leading zeros): it exceeds it.
    if len(text) > max_amount_chars(max_units):
        raise AmountError(f"amount exceeds the maximum of {max_units:f}")
    value = Decimal(text)
    if value > max_units:
        raise AmountError(f"amount exceeds the maximum of {max_units:f}")
    return value


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion to integer minor units; raises if the amount has sub-minor digits."""
    exponent = minor_units(currency)
    if not amount.is_finite():
        raise AmountError(f"{amount} is not a finite amount")
    scaled = amount.scaleb(exponent, context=_UNBOUNDED)
    if scaled != scaled.to_integral_value(context=_UNBOUNDED):
        raise AmountError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(units: int, currency: str) -> Decimal:
    """Exact amount of `units` minor units, carrying exactly the currency's decimals."""
    return Decimal(units).scaleb(-minor_units(currency), context=_UNBOUNDED)


def format_amount(amount: Decimal, currency: str) -> str:
    """Canonical text: exactly the currency's minor-unit digits (never rounds: raises instead)."""
    exponent = minor_units(currency)
    if not amount.is_finite():
        raise AmountError(f"{amount} is not a finite amount")
    # Text surgery on the exact fixed-point form instead of scaling through integers: this
    # runs for every event at intake and in the aggregator.
    whole, _, fraction = f"{amount:f}".partition(".")
    if len(fraction) > exponent:
        if fraction[exponent:].strip("0"):
            raise AmountError(f"{amount} has more decimals than {currency} allows")
        fraction = fraction[:exponent]
    if whole == "-0" and not fraction.strip("0"):
        whole = "0"  # negative zero has one canonical text, as 0 minor units do
    return whole + "." + fraction.ljust(exponent, "0") if exponent else whole
