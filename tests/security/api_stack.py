"""The API under attack: real processes on real PostgreSQL and Redis (tests/api/ledger_state.py
writes the ledger and buckets as the aggregator does), in both PUBLIC_MODE settings.

Banks and events are chosen so that disclosure control has something to do: four banks
report cross-border RMB (a publishable cell), two report offshore business and one MNC
headquarters business (thin cells: fewer than MIN_CONTRIBUTORS=3 banks). All value dates are
in 2020, the latest target window, so every figure below is the whole window's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import httpx

from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ServiceRunner
from tests.support.pipeline import bearer

RMB_BANKS = ("sec-a", "sec-b", "sec-c", "sec-d")
EVENTS = (
    Event("sec-a", "A1", "cross_border_rmb", Decimal("1000000.00"), "CNY", date(2020, 1, 15)),
    Event("sec-b", "B1", "cross_border_rmb", Decimal("2000000.00"), "CNY", date(2020, 2, 15)),
    Event("sec-c", "C1", "cross_border_rmb", Decimal("3000000.00"), "CNY", date(2020, 3, 15)),
    Event("sec-d", "D1", "cross_border_rmb", Decimal("4000000.00"), "CNY", date(2020, 3, 16)),
    # Thin: two banks only. 7,654,321.09 USD is sec-a's own offshore business.
    Event("sec-a", "A2", "offshore", Decimal("7654321.09"), "USD", date(2020, 4, 1)),
    Event("sec-b", "B2", "offshore", Decimal("1111.11"), "USD", date(2020, 4, 2)),
    # Thin: one bank. Its market figure would be exactly sec-c's volume.
    Event("sec-c", "C2", "mnc_headquarters", Decimal("5555555.55"), "CNY", date(2020, 5, 5)),
)
THIN = ("offshore", "mnc_headquarters")
SINGLE_BANK_FIGURES = ("7654321.09", "5555555.55")  # what a leak of the thin cells shows


@dataclass(frozen=True, slots=True)
class Apis:
    private: str  # PUBLIC_MODE=false (the product default)
    public: str  # PUBLIC_MODE=true (the local demo's setting)
    operator: dict[str, str]
    banks: Mapping[str, dict[str, str]]
    scrape_token: str
    env: dict[str, str]


def product_settings(**overrides: str) -> dict[str, str]:
    """Disclosure control at its default (tests/conftest.py turns it off for functional
    modules). Rate limits stay lifted (every request here comes from 127.0.0.1) and the
    anonymous cache off, except where test_api_rate_limit.py sets them."""
    values = {
        "MIN_CONTRIBUTORS": "3",
        "FX_CACHE_SECONDS": "0",
        "RATE_PER_KEY": "100000",
        "BURST_PER_KEY": "100000",
        "RATE_PER_ADDRESS": "100000",
        "BURST_PER_ADDRESS": "100000",
        "ANONYMOUS_CACHE_SECONDS": "0",
    }
    values.update(overrides)
    return values


def start_apis(
    isolated_env: dict[str, str], services: ServiceRunner, events: tuple[Event, ...] = EVENTS, **overrides: str
) -> Apis:
    state = LedgerState(isolated_env)
    state.load_fx_seeds()
    operator = state.add_operator("sec-ops")
    banks = {bank: bearer(state.add_bank(bank)) for bank in RMB_BANKS}
    for event in events:
        state.count(event)
    state.close()
    token = secrets.token_urlsafe(24)
    urls = {}
    for name, mode in (("api_private", "false"), ("api_public", "true")):
        env = product_settings(PUBLIC_MODE=mode, METRICS_SCRAPE_TOKEN=token, **overrides)
        urls[name] = services.serve(name, "settlement_api", env).url
    return Apis(urls["api_private"], urls["api_public"], bearer(operator), banks, token, isolated_env)


def get(url: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return httpx.get(url, params=params, headers=headers or {}, timeout=30)
