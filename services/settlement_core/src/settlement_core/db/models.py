"""SQLAlchemy models of the ledger of record.

`ledger_events` holds one row per distinct (bank_id, event_id). `ledger_effects` journals
every signed change to the totals with the Kafka partition/offset that caused it; Redis is a
projection of this journal and `settlementctl rebuild` recomputes it from here.
`consumer_offsets` is committed in the same transaction as the rows (offsets outside Kafka).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from settlement_core.vocabulary import DlqReason, LedgerStatus


def _vocabulary(enum: type[LedgerStatus] | type[DlqReason], length: int) -> Enum:
    """A varchar column of a StrEnum's values (no database enum type: the DDL stays
    varchar(length) and reads return the members)."""
    return Enum(
        enum, native_enum=False, create_constraint=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    pass


class Bank(Base):
    __tablename__ = "banks"

    bank_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    bic: Mapped[str | None] = mapped_column(String(11))
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The HMAC secret must be readable to verify signatures; the bearer key is hash-only.
    hmac_secret: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int] = mapped_column(Integer, default=5000)
    burst: Mapped[int] = mapped_column(Integer, default=20000)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Operator(Base):
    __tablename__ = "operators"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerEvent(Base):
    __tablename__ = "ledger_events"
    __table_args__ = (
        UniqueConstraint("bank_id", "event_id", name="uq_ledger_bank_event"),
        Index("ix_ledger_reverses", "bank_id", "reverses"),
        Index("ix_ledger_source", "kafka_partition", "kafka_offset"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    body_hash: Mapped[str] = mapped_column(String(64))
    # The categories the bank declared, sorted; rules add derived ones only when counting,
    # so a rule change is applied to history by a rebuild (settlement_core.rules).
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    currency: Mapped[str] = mapped_column(String(3))
    value_date: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(8))
    counterparty_country: Mapped[str] = mapped_column(String(2))
    reverses: Mapped[str | None] = mapped_column(String(64))
    uetr: Mapped[UUID | None] = mapped_column(Uuid)
    # settlement_core.vocabulary.LedgerStatus, stored as its value.
    status: Mapped[LedgerStatus] = mapped_column(_vocabulary(LedgerStatus, 20))
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerEffect(Base):
    __tablename__ = "ledger_effects"
    __table_args__ = (Index("ix_effects_source", "kafka_partition", "kafka_offset"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    bank_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))  # the event's declared ones
    value_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    direction: Mapped[str] = mapped_column(String(8))
    counterparty_country: Mapped[str] = mapped_column(String(2))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DlqEvent(Base):
    __tablename__ = "dlq_events"
    __table_args__ = (
        Index("ix_dlq_bank_event", "bank_id", "event_id"),
        Index("ix_dlq_source", "kafka_partition", "kafka_offset"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[DlqReason] = mapped_column(_vocabulary(DlqReason, 40))
    detail: Mapped[str] = mapped_column(Text)
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConsumerOffset(Base):
    __tablename__ = "consumer_offsets"

    group_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FxRateRow(Base):
    __tablename__ = "fx_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    cny_per_unit: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    source: Mapped[str] = mapped_column(Text)
    sample: Mapped[bool] = mapped_column(Boolean)
