"""Issue 20, H2: Kafka is no side door into the ledger.

Each test performs the attack against the real broker of the local stack (SASL/SCRAM-SHA-512,
StandardAuthorizer, the ACLs `settlementctl init` created). On the starting main every one of
them failed: the broker listened PLAINTEXT with no authorizer, so the anonymous producer, the
wrong principal and `ingest` reading the topic all succeeded, and the aggregator counted an
event of any bank id it found on the topic (the audit booked one as another bank).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError
from sqlalchemy import create_engine, text

from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.kafka_io import client_config
from tests.conftest import ServiceRunner
from tests.support.banks import register_banks
from tests.support.ctl import settlementctl_ok
from tests.support.kafka import kafka_access, kafka_config
from tests.support.stack import STACK_DIR, stack_env

pytestmark = pytest.mark.integration

# The topics the ACLs name: the stack's own (stack.env does not override the defaults).
EVENTS = "settlement.events"
DLQ = "settlement.events.dlq"
# Short: a refused client retries until this, then gives up.
BOOTSTRAP_MS = 8000


def _event(bank_id: str, event_id: str) -> bytes:
    event = SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        categories=("offshore",),
        amount=Decimal("1234.56"),
        currency="USD",
        value_date=date(2020, 6, 30),
        direction=Direction.OUTBOUND,
        counterparty_country="SG",
    )
    return encode(Envelope(event, datetime.now(UTC)))


def _end_offsets(topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(**kafka_config(), group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        assert parts, f"{topic} has no partitions: run settlementctl init"
        return {tp.partition: int(o) for tp, o in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def _write(config: Mapping[str, object], topic: str) -> None:
    producer = KafkaProducer(**config, bootstrap_timeout_ms=BOOTSTRAP_MS, max_block_ms=BOOTSTRAP_MS)
    try:
        producer.send(topic, key=b"intruder", value=_event("intruder", uuid.uuid4().hex)).get(timeout=10)
    finally:
        producer.close(timeout=0)


def test_a_producer_without_credentials_is_refused_and_writes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """The audit's attack: a plain client (no SASL) producing to the events topic. The
    broker drops the connection at the first request after the SASL handshake it expected."""
    before = _end_offsets(EVENTS)
    plain = {"bootstrap_servers": kafka_access().bootstrap.split(","), "security_protocol": "PLAINTEXT"}
    with caplog.at_level(logging.WARNING, logger="kafka"), pytest.raises(KafkaTimeoutError, match="bootstrap"):
        _write(plain, EVENTS)
    assert "socket disconnected" in caplog.text  # the broker hung up; it was there
    assert _end_offsets(EVENTS) == before


def test_a_wrong_password_fails_authentication() -> None:
    """Refused, and nothing written; the control shows that the very same client settings
    with the right password do log in, so the refusal is the password. (kafka-python's log
    line naming SaslAuthenticationFailedError was asserted before; in one CI run of 12-07
    every attempt logged only "socket disconnected", so the log text is not the proof.)"""
    before = _end_offsets(EVENTS)
    access = kafka_access()
    wrong = client_config(access.as_principal("admin", "not-the-password"))
    with pytest.raises(KafkaTimeoutError):
        _write(wrong, EVENTS)
    assert _end_offsets(EVENTS) == before
    right = KafkaConsumer(**client_config(access), group_id=None, request_timeout_ms=10_000)
    try:
        assert EVENTS in right.topics()
    finally:
        right.close()


@pytest.mark.parametrize("principal", ["aggregate", "bench"])
def test_another_principal_cannot_write_the_events_topic(principal: str) -> None:
    """Valid credentials of a principal that may not write there: refused by the ACLs."""
    before = _end_offsets(EVENTS)
    with pytest.raises(TopicAuthorizationFailedError):
        _write(kafka_config(principal=principal), EVENTS)
    assert _end_offsets(EVENTS) == before


def _poll_for(consumer: KafkaConsumer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        consumer.poll(timeout_ms=500)


def test_ingest_cannot_read_the_events_topic() -> None:
    consumer = KafkaConsumer(**kafka_config(principal="ingest"), group_id=None, request_timeout_ms=10_000)
    try:
        consumer.assign([TopicPartition(EVENTS, 0)])
        consumer.seek_to_beginning()
        with pytest.raises(TopicAuthorizationFailedError):
            _poll_for(consumer, 20.0)
    finally:
        consumer.close()


def test_ingest_cannot_write_the_dlq() -> None:
    before = _end_offsets(DLQ)
    with pytest.raises(TopicAuthorizationFailedError):
        _write(kafka_config(principal="ingest"), DLQ)
    assert _end_offsets(DLQ) == before


def test_the_aggregate_principal_can_read_the_events_topic() -> None:
    """Control: the refusals above are the ACLs, not broken credentials."""
    consumer = KafkaConsumer(**kafka_config(principal="aggregate"), group_id=None)
    try:
        consumer.assign([TopicPartition(EVENTS, 0)])
        consumer.seek_to_beginning()
        consumer.poll(timeout_ms=2000)  # raises if not authorised
        assert consumer.position(TopicPartition(EVENTS, 0)) >= 0
    finally:
        consumer.close()


def _live_environ(pid: int, started: str | None) -> bytes | None:
    """/proc/<pid>/environ of the process, or None when it is gone, a zombie, or the pid has
    been recycled (the start time, field 22 of /proc/<pid>/stat, differs from the one the
    pid file recorded)."""
    try:
        after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if after_name[0] in ("Z", "X") or (started is not None and after_name[19] != started):
            return None
        return Path(f"/proc/{pid}/environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile
        return None


def _service_environ(name: str) -> dict[str, str]:
    """The environment of the service stack.sh started as `name`. A service that has died
    fails the test by its name, with the end of its log (not as a missing /proc file)."""
    stack_dir = Path(stack_env().get("STACK_DIR", STACK_DIR))
    pid_file = stack_dir / "run" / f"{name}.pid"
    assert pid_file.exists(), f"{name} is not running: deploy/local/stack.sh start services (make test does)"
    pid_text, *started = pid_file.read_text().split()
    raw = _live_environ(int(pid_text), started[0] if started else None)
    if raw is None:
        log = stack_dir / "logs" / f"{name}.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else f"({log} missing)"
        pytest.fail(f"stack service {name} (pid {pid_text} in {pid_file}) has died; the end of {log}:\n{tail}")
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def test_each_stack_service_holds_only_its_own_kafka_principal() -> None:
    """Least privilege: stack.env carries `admin` (for settlementctl and tests); a service
    started by stack.sh gets its own principal, and the API, which uses no Kafka, none."""
    admin_password = stack_env()["KAFKA_PASSWORD"]
    for name in ("ingest", "aggregate"):
        env = _service_environ(name)
        assert env["KAFKA_USERNAME"] == name
        assert env["KAFKA_PASSWORD"] != admin_password
    api = _service_environ("api")
    assert "KAFKA_PASSWORD" not in api
    assert "KAFKA_USERNAME" not in api


def _dlq_reasons(env: dict[str, str], bank_id: str) -> list[str]:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT reason FROM dlq_events WHERE bank_id = :b"), {"b": bank_id}).all())
    finally:
        engine.dispose()


def _ledger_statuses(env: dict[str, str], bank_id: str) -> list[str]:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT status FROM ledger_events WHERE bank_id = :b"), {"b": bank_id}).all())
    finally:
        engine.dispose()


def _dlq_record(env: dict[str, str], raw: bytes, timeout: float = 60.0) -> dict[str, bytes]:
    """Headers of the DLQ message that carries exactly `raw`."""
    consumer = KafkaConsumer(**kafka_config(env), group_id=None, auto_offset_reset="earliest")
    try:
        consumer.assign([TopicPartition(env["DLQ_TOPIC"], 0)])
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                for message in batch:
                    if message.value == raw:
                        return {k: v for k, v in message.headers}
        raise AssertionError(f"no DLQ message with the event within {timeout}s")
    finally:
        consumer.close()


def _wait_for(what: str, check: object, timeout: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {timeout}s")


def test_an_event_of_an_unregistered_bank_is_dead_lettered_not_counted(
    isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    """Defence in depth: even a writer with the right to the topic (here `admin`) cannot
    book volume for a bank id that was never registered. A registered bank whose key was
    revoked keeps its row, so its events are still counted."""
    services.serve("aggregate", "settlement_aggregate")
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    revoked = f"rev-{uuid.uuid4().hex[:8]}"
    register_banks(isolated_env["DATABASE_URL"], [revoked])
    settlementctl_ok(isolated_env, "key", "revoke", revoked)
    forged, past = _event(ghost, "forged-1"), _event(revoked, "before-revocation")

    producer = KafkaProducer(**kafka_config(isolated_env), acks="all")
    try:
        producer.send(isolated_env["EVENTS_TOPIC"], key=ghost.encode(), value=forged).get(timeout=30)
        producer.send(isolated_env["EVENTS_TOPIC"], key=revoked.encode(), value=past).get(timeout=30)
    finally:
        producer.close()

    headers = _dlq_record(isolated_env, forged)
    assert headers["dlq.reason"] == b"unknown_bank"
    _wait_for("the dlq_events row", lambda: _dlq_reasons(isolated_env, ghost) == ["unknown_bank"])
    _wait_for("the revoked bank's event counted", lambda: _ledger_statuses(isolated_env, revoked) == ["counted"])
    assert _ledger_statuses(isolated_env, ghost) == []
