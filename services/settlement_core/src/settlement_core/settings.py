"""Settings shared by every service. Connection URLs are required: there are no defaults
that could silently point a production process at someone else's server or a blank password.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from settlement_core.redis_io import RedisMode


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        description="SQLAlchemy URL, postgresql+psycopg://...; for a primary and standbys "
        "postgresql+psycopg://u:pw@/db?host=h1:p1&host=h2:p2&target_session_attrs=read-write"
    )
    # Client-side deadline on each PostgreSQL round trip of the services (db/deadline.py):
    # past it the connection is closed and the caller's retry runs. The longest legitimate
    # round trip is the aggregator's batch (a 10,000-event COPY, then the commit): under
    # 0.7 s at the measured 14,605 events/s, a few seconds on a machine at load 20. 20 s
    # leaves a wide margin and bounds how long a swallowed answer can stall a process.
    database_round_trip_deadline_s: float = Field(default=20.0, gt=0)
    redis_url: str = Field(description="redis://:password@host:port/db (cluster/sentinel: host:port,host:port)")
    redis_mode: RedisMode = RedisMode.STANDALONE
    kafka_bootstrap: str = Field(description="host:port[,host:port]")
    # Every shipped deployment authenticates to Kafka (docs/security/kafka-and-local.md);
    # PLAINTEXT exists for a broker of someone else's that has no authentication at all.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: str | None = Field(default=None, description="this process's Kafka principal")
    kafka_password: SecretStr | None = None
    targets_file: Path
    fx_rates_file: Path | None = None

    events_topic: str = "settlement.events"
    dlq_topic: str = "settlement.events.dlq"
    events_partitions: int = Field(default=12, ge=1)
    # `settlementctl init` creates the topics with these; cluster mode uses 3 and 2, so that
    # one broker may die without losing an acknowledged record or stopping intake.
    topic_replication_factor: int = Field(default=1, ge=1)
    topic_min_insync_replicas: int = Field(default=1, ge=1)
    business_timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"


class IntakeRules(BaseSettings):
    """Validation limits of the event contract (see docs/ingest-contract.md)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    max_amount: Decimal = Decimal(10) ** 15
    accepted_currencies: frozenset[str] = frozenset({"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"})
    earliest_value_date: str = "2010-01-01"
    value_date_future_days: int = 1
