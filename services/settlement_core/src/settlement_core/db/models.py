"""SQLAlchemy models of the ledger of record.

`ledger_events` holds one row per distinct (bank_id, event_id). `ledger_effects` journals
every signed change to the totals with the Kafka partition/offset that caused it; Redis is a
projection of this journal and `settlementctl rebuild` recomputes it from here.
`consumer_offsets` is committed in the same transaction as the rows (offsets outside Kafka).

Since migration 0004 an effect row only references the ledger_events rows it is made of
(the event whose attributes and amount count, and for a subtraction the reversal that
caused it) instead of repeating them: the ledger's bytes per event are what growth costs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from settlement_core.bank_limits import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
from settlement_core.corrections import MAX_REASON_TEXT
from settlement_core.identifiers import MAX_EVENT_ID_LENGTH
from settlement_core.vocabulary import DlqReason, LedgerStatus


def _vocabulary(enum: type[LedgerStatus] | type[DlqReason], length: int) -> Enum:
    """A varchar column of a StrEnum's values (no database enum type: the DDL stays
    varchar(length) and reads return the members)."""
    return Enum(
        enum, native_enum=False, create_constraint=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Sha256Digest(TypeDecorator[str]):
    """A SHA-256 digest stored as its 32 bytes (`bytea`, 33 bytes on disk instead of 65 for
    the hex text) and handled in Python as its 64 lowercase hex digits, the form
    `SettlementEvent.body_hash()` returns and the API shows."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes.fromhex(value)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        return None if value is None else bytes(value).hex()


class Base(DeclarativeBase):
    pass


class Bank(Base):
    __tablename__ = "banks"

    bank_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    bic: Mapped[str | None] = mapped_column(String(11))
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The HMAC secret must be readable to verify signatures, so it is stored sealed
    # (settlement_core.secret_box, AES-256-GCM under SECRETS_ENCRYPTION_KEY), never in plain.
    # During a rotation's overlap the previous secret stays valid until hmac_previous_until.
    hmac_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    hmac_previous_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    hmac_previous_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int] = mapped_column(Integer, default=DEFAULT_RATE_PER_SECOND)
    burst: Mapped[int] = mapped_column(Integer, default=DEFAULT_BURST)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Operator(Base):
    __tablename__ = "operators"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BankPublicKey(Base):
    """An Ed25519 public key a bank signs its requests with (RFC 9421); public material only.
    A bank with at least one must sign every request with one of them."""

    __tablename__ = "bank_public_keys"

    bank_id: Mapped[str] = mapped_column(String(32), ForeignKey("banks.bank_id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="ed25519")
    # The raw 32-byte Ed25519 public key (RFC 8032).
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(Base):
    """Who did what, when: administrative actions (settlementctl) and operator reads of
    per-bank data (the API). Never a secret or a key, only names and ids."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256))
    detail: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)


class LedgerEvent(Base):
    __tablename__ = "ledger_events"
    __table_args__ = (
        UniqueConstraint("bank_id", "event_id", name="uq_ledger_bank_event"),
        CheckConstraint("octet_length(body_hash) = 32", name="ck_ledger_body_hash_sha256"),
        # Only reversals are looked up by what they reverse; originals (nearly every row)
        # have reverses NULL and stay out of this index.
        Index("ix_ledger_reverses", "bank_id", "reverses", postgresql_where=text("reverses IS NOT NULL")),
        # Corrections (migration 0011): found by what they correct, the same way.
        Index("ix_ledger_corrects", "bank_id", "corrects", postgresql_where=text("corrects IS NOT NULL")),
        # No (kafka_partition, kafka_offset) index: replays read ledger_effects by source,
        # nothing reads ledger_events by it (migration 0004 dropped ix_ledger_source).
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(MAX_EVENT_ID_LENGTH))
    body_hash: Mapped[str] = mapped_column(Sha256Digest)
    # The categories the bank declared, sorted; rules add derived ones only when counting,
    # so a rule change is applied to history by a rebuild (settlement_core.rules).
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    currency: Mapped[str] = mapped_column(String(3))
    value_date: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(8))
    counterparty_country: Mapped[str] = mapped_column(String(2))
    reverses: Mapped[str | None] = mapped_column(String(MAX_EVENT_ID_LENGTH))
    uetr: Mapped[UUID | None] = mapped_column(Uuid)
    # settlement_core.vocabulary.LedgerStatus, stored as its value.
    status: Mapped[LedgerStatus] = mapped_column(_vocabulary(LedgerStatus, 20))
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A correction (settlement_core.corrections, migration 0011): the event_id it replaces and
    # why; a reversal may carry a reason too. NULL on every other row.
    corrects: Mapped[str | None] = mapped_column(String(MAX_EVENT_ID_LENGTH))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(String(MAX_REASON_TEXT))


# The journal Redis projects. A Core table, not a mapped class: its rows have no identity of
# their own (no surrogate key: an 8-byte column and a primary-key index per effect, read by
# nobody) and are only ever appended by COPY and read by source.
#
# One row per signed change at the Kafka (partition, offset) that caused it:
#   event_row_id     the ledger_events row whose declared categories, value date, currency,
#                    direction, country and amount count (always an original);
#   reversal_row_id  NULL: the effect adds that amount; else the ledger_events row of the
#                    applied reversal that subtracts it (the effect's event id is its event id).
# amount_minor = ±settlement_core.money.to_minor(amount, currency) of the original, exactly what
# the aggregator applied (the writer checks it, settlement_aggregate.ledger).
# Columns in alignment order (8-byte ones first, smallint last, the nullable one after): the
# row is 24 + 26 bytes, 56 with padding, whatever reversal_row_id holds for an original.
LEDGER_EFFECTS = Table(
    "ledger_effects",
    Base.metadata,
    Column("kafka_offset", BigInteger, nullable=False),
    Column("event_row_id", BigInteger, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # Kafka partition numbers of this deployment fit a smallint (12 partitions; a topic of
    # 32,768 or more partitions would make the COPY fail loudly, never store a wrong value).
    Column("kafka_partition", SmallInteger, nullable=False),
    Column("reversal_row_id", BigInteger, nullable=True),
    Index("ix_effects_source", "kafka_partition", "kafka_offset"),
    # Knowledge-time reads sum the effects committed after their checkpoint by processed_at
    # (migration 0012: BRIN, because effects are appended in commit order).
    Index("ix_effects_processed_at", "processed_at", postgresql_using="brin"),
)


class DlqEvent(Base):
    __tablename__ = "dlq_events"
    __table_args__ = (
        Index("ix_dlq_bank_event", "bank_id", "event_id"),
        Index("ix_dlq_source", "kafka_partition", "kafka_offset"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(MAX_EVENT_ID_LENGTH))
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


# -- Control totals (issue 25 step 3; settlement_api.control_totals, docs/statistics.md) -----


class ControlTotalDeclaration(Base):
    """One version of a bank's control totals for a period (a calendar month, "YYYY-MM").
    A changed declaration for the same period is a new version; earlier ones are kept."""

    __tablename__ = "control_total_declarations"
    __table_args__ = (
        UniqueConstraint("bank_id", "period", "version", name="uq_ctl_declaration_version"),
        CheckConstraint("version >= 1", name="ck_ctl_declaration_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str] = mapped_column(String(32), ForeignKey("banks.bank_id"))
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the lines' canonical JSON: an identical re-send is recognised by it.
    lines_hash: Mapped[str] = mapped_column(Sha256Digest)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ControlTotalLine(Base):
    """A declared count and sum for one target and original currency."""

    __tablename__ = "control_total_lines"
    __table_args__ = (
        CheckConstraint("count >= 0", name="ck_ctl_line_count"),
        CheckConstraint("amount >= 0", name="ck_ctl_line_amount"),
    )

    declaration_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("control_total_declarations.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))


class ControlTotalBreak(Base):
    """A difference between a declared line and the bank's counted events. At most one open
    break per (bank, period, target, currency); a resolved one (closed by events or a new
    declaration, or acknowledged by an operator) stays for the record."""

    __tablename__ = "control_total_breaks"
    __table_args__ = (
        Index(
            "uq_ctl_break_open",
            "bank_id",
            "period",
            "target",
            "currency",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_ctl_break_status", "status"),
        CheckConstraint("status IN ('open', 'closed', 'acknowledged')", name="ck_ctl_break_status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    bank_id: Mapped[str] = mapped_column(String(32), ForeignKey("banks.bank_id"))
    period: Mapped[str] = mapped_column(String(7))
    target: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    # The figures last compared (declared by the bank, counted in the ledger).
    declared_count: Mapped[int] = mapped_column(BigInteger)
    declared_amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    counted_count: Mapped[int] = mapped_column(BigInteger)
    counted_amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ControlTotalBreakEntry(Base):
    """The audit trail of a break: opened, changed, closed, acknowledged; who, when, why."""

    __tablename__ = "control_total_break_trail"
    __table_args__ = (Index("ix_ctl_trail_break", "break_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    break_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("control_total_breaks.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(16))
    # "system" (a reconciliation), "bank:<id>" (a new declaration), "operator:<name>".
    actor: Mapped[str] = mapped_column(String(128))
    # Why: "events" / "declaration" for the system's entries, the operator's note otherwise.
    note: Mapped[str] = mapped_column(Text)
    declaration_version: Mapped[int] = mapped_column(Integer)
    declared_count: Mapped[int] = mapped_column(BigInteger)
    declared_amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    counted_count: Mapped[int] = mapped_column(BigInteger)
    counted_amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    # Latest receipt time of the counted events compared (when the late event arrived).
    counted_through: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# -- Releases and knowledge time (issue 24; settlement_api.releases, docs/statistics.md) -----


class RuleSet(Base):
    """The counting rules in force from `recorded_at` (settlement_core.rules.rules_document):
    written by `settlementctl init` (the first set) and `settlementctl rebuild` (whenever the
    catalogue's rules differ from the latest set), so a read at a knowledge time counts with
    the rules the projection counted with then."""

    __tablename__ = "rule_sets"
    __table_args__ = (
        CheckConstraint("octet_length(digest) = 32", name="ck_rule_sets_digest_sha256"),
        Index("ix_rule_sets_recorded_at", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    digest: Mapped[str] = mapped_column(Sha256Digest)
    document: Mapped[dict[str, object]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(32))  # "init" | "rebuild"


class Release(Base):
    """A published release of one target period: its figures as known at `known_at`."""

    __tablename__ = "releases"
    __table_args__ = (
        CheckConstraint("kind IN ('preliminary', 'final')", name="ck_releases_kind"),
        Index("ix_releases_period", "period", "known_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    # The knowledge time the figures were computed at (server time after a knowledge
    # barrier, settlement_api.kit.known_at): also the release's publication time.
    known_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rule_set_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("rule_sets.id"))
    created_by: Mapped[str] = mapped_column(String(128))


class ReleaseFigure(Base):
    """One target's frozen figure in a release: exact amount in the target currency, the
    number of events counted, the number of banks contributing (disclosure control) and
    the value dates [window_start, as_of] it covers."""

    __tablename__ = "release_figures"

    release_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(30, 4))
    events: Mapped[int] = mapped_column(BigInteger)
    contributors: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[date] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)


class KnowledgeCheckpoint(Base):
    """The ledger's effects with processed_at <= `at`, summed per knowledge-time group
    (settlement_api.kit.checkpoints), countries grouped for `home_country`."""

    __tablename__ = "knowledge_checkpoints"
    __table_args__ = (UniqueConstraint("home_country", "at", name="uq_knowledge_checkpoints_home_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    home_country: Mapped[str] = mapped_column(String(2))
    groups: Mapped[int] = mapped_column(BigInteger)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# One summed group of a checkpoint (Core table: no identity of its own, read by checkpoint).
KNOWLEDGE_CHECKPOINT_GROUPS = Table(
    "knowledge_checkpoint_groups",
    Base.metadata,
    Column("checkpoint_id", BigInteger, ForeignKey("knowledge_checkpoints.id", ondelete="CASCADE"), nullable=False),
    Column("bank_id", String(32), nullable=False),
    Column("categories", ARRAY(String(32)), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("value_date", Date, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("country", String(2), nullable=False),
    Column("added", Boolean, nullable=False),  # False: the subtractions of reversals
    Column("amount", Numeric, nullable=False),  # exact, unsigned, in the event currency
    Column("events", BigInteger, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),  # earliest processed_at summed
    Index("ix_checkpoint_groups_checkpoint", "checkpoint_id"),
)


# -- Refusals at the edge (issue 25 step 5; settlement_ingest.rejections) --------------------


class IntakeRejection(Base):
    """Events a bank sent that ingest refused for their content (422: a single event, a batch
    item or an ISO 20022 transaction), counted per bank and month of receipt (business
    timezone). Ingest adds its in-process counts every REJECTIONS_FLUSH_SECONDS; the quality
    score's `rejections` component reads them beside the dead letters. A count, not the
    bodies: a refused event changed nothing and is not kept."""

    __tablename__ = "intake_rejections"
    __table_args__ = (CheckConstraint("count >= 0", name="ck_intake_rejections_count"),)

    bank_id: Mapped[str] = mapped_column(String(32), ForeignKey("banks.bank_id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM of receipt
    count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The transparency log's tables live in their own module (settlement_core.tlog); importing it
# here registers them on Base.metadata so the migration test compares the whole schema.
from settlement_core.tlog import schema as _tlog_schema  # noqa: E402, F401
