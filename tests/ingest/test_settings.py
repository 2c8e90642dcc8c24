"""Ingest settings come from the environment; connection URLs have no defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from settlement_ingest.settings import IngestSettings

REQUIRED = {
    "DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/db",
    "REDIS_URL": "redis://:p@127.0.0.1:1/0",
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "TARGETS_FILE": "/nonexistent/targets.yaml",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*REQUIRED, "INGEST_PORT", "INGEST_HOST", "PRODUCE_TIMEOUT_S", "MAX_AMOUNT", "ACCEPTED_CURRENCIES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_connection_settings_are_required(env: pytest.MonkeyPatch, missing: str) -> None:
    for name, value in REQUIRED.items():
        if name != missing:
            env.setenv(name, value)
    with pytest.raises(ValidationError, match=missing.lower()):
        IngestSettings()


def test_defaults_are_the_contract(env: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        env.setenv(name, value)
    settings = IngestSettings()
    assert (settings.ingest_host, settings.ingest_port) == ("127.0.0.1", 8001)
    assert settings.produce_timeout_s < 5
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.max_batch_events == 1000
    assert settings.max_amount == Decimal(10) ** 15
    assert {"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"} <= settings.accepted_currencies
    assert settings.business_timezone == "Asia/Shanghai"


def test_environment_overrides(env: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        env.setenv(name, value)
    env.setenv("INGEST_PORT", "9101")
    env.setenv("PRODUCE_TIMEOUT_S", "2.5")
    env.setenv("ACCEPTED_CURRENCIES", '["CNY", "AUD"]')
    settings = IngestSettings()
    assert settings.ingest_port == 9101
    assert settings.produce_timeout_s == 2.5
    assert settings.accepted_currencies == frozenset({"CNY", "AUD"})
