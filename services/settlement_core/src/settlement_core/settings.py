"""Settings shared by every service. Connection URLs are required: there are no defaults
that could silently point a production process at someone else's server or a blank password.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(description="SQLAlchemy URL, postgresql+psycopg://...")
    redis_url: str = Field(description="redis://:password@host:port/db")
    kafka_bootstrap: str = Field(description="host:port[,host:port]")
    targets_file: Path
    fx_rates_file: Path | None = None

    events_topic: str = "settlement.events"
    dlq_topic: str = "settlement.events.dlq"
    events_partitions: int = Field(default=12, ge=1)
    business_timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"


class IntakeRules(BaseSettings):
    """Validation limits of the event contract (see docs/ingest-contract.md)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    max_amount: Decimal = Decimal(10) ** 15
    accepted_currencies: frozenset[str] = frozenset({"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"})
    earliest_value_date: str = "2010-01-01"
    value_date_future_days: int = 1
