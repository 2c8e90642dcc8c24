"""Static inputs of the API's pure-logic tests: the seeded targets, an FX table, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from settlement_api.settings import ApiSettings
from settlement_core.catalogue import load_targets
from settlement_core.fx import FxRate, FxTable
from tests.conftest import ROOT

TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")
FX = FxTable(
    [
        FxRate("USD", date(2019, 1, 1), Decimal("6.8985"), "t", False),
        FxRate("USD", date(2020, 1, 1), Decimal("6.8976"), "t", False),
    ]
)


def settings(**overrides: object) -> ApiSettings:
    base: dict[str, object] = {
        "database_url": "postgresql+psycopg://x/y",
        "redis_url": "redis://x",
        "kafka_bootstrap": "x:1",
        "targets_file": Path("t.yaml"),
    }
    return ApiSettings(**{**base, **overrides})  # type: ignore[arg-type]
