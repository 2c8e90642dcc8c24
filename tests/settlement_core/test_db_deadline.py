"""The client-side round-trip deadline (settlement_core.db.deadline) against the real
PostgreSQL, reached through a loopback forwarder that can swallow the server's answers
while the connection stays open, as toxiproxy's `timeout` toxic with timeout 0 does (the
nemesis's finding, seed 20261207: both aggregators waited for ever).

`test_without_a_deadline_a_swallowed_answer_blocks` is the code as it was: nothing ends the
wait. Every other test fails on that code (make_engine had no deadline: the first blocks
until the forwarder is cut)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from settlement_core.db.deadline import RoundTripDeadlineExceeded
from settlement_core.db.engine import make_engine
from tests.aggregate.tcp_proxy import TcpProxy
from tests.support.ports import LOOPBACK
from tests.support.stack import stack_env

pytestmark = pytest.mark.integration

DEADLINE_S = 1.0
# The deadline, plus psycopg's 0.1 s wake-up and a loaded 2-core machine's scheduling.
SLACK_S = 2.0


def _primary(url: URL) -> tuple[str, int]:
    """host and port of the stack's PostgreSQL (the cluster stack lists several hosts)."""
    if url.host:
        return url.host, url.port or 5432
    hosts = url.query["host"]
    first = hosts if isinstance(hosts, str) else hosts[0]
    host, port = first.rsplit(":", 1)
    return host, int(port)


@pytest.fixture
def proxy() -> Iterator[tuple[TcpProxy, URL]]:
    url = make_url(stack_env()["DATABASE_URL"].strip("'"))
    forwarder = TcpProxy(*_primary(url))
    forwarder.start()
    yield forwarder, url.set(host=LOOPBACK, port=forwarder.port, query={})
    forwarder.cut()


def _engine(url: URL, deadline_s: float | None = DEADLINE_S) -> Engine:
    return make_engine(url.render_as_string(hide_password=False), pool_size=1, round_trip_deadline_s=deadline_s)


def test_a_swallowed_answer_raises_within_the_deadline_and_the_pool_recovers(
    proxy: tuple[TcpProxy, URL],
) -> None:
    forwarder, url = proxy
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            forwarder.swallow()
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised:
                conn.execute(text("SELECT 2"))
            elapsed = time.monotonic() - started
        assert DEADLINE_S * 0.9 <= elapsed < DEADLINE_S + SLACK_S, elapsed
        assert isinstance(raised.value.orig, RoundTripDeadlineExceeded)
        # SQLAlchemy saw a closed connection: a disconnect, dropped from the pool.
        assert raised.value.connection_invalidated
        forwarder.swallow(False)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 3")).scalar_one() == 3
    finally:
        engine.dispose()


def test_without_a_deadline_a_swallowed_answer_blocks(proxy: tuple[TcpProxy, URL]) -> None:
    """The bug: with the answer swallowed, psycopg waits until the connection is cut."""
    forwarder, url = proxy
    engine = _engine(url, deadline_s=None)
    outcome: list[BaseException | None] = []

    def query() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with engine.connect() as conn:  # connect before swallowing: the wait is the query's
        conn.execute(text("SELECT 1"))
    forwarder.swallow()
    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    worker.join(DEADLINE_S + SLACK_S + 1.0)
    assert worker.is_alive(), f"the query returned without a deadline: {outcome}"
    forwarder.cut()  # only this ends it
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(outcome[0], OperationalError)
    engine.dispose()


def test_a_commit_whose_answer_is_swallowed_raises_though_the_server_committed(
    proxy: tuple[TcpProxy, URL],
) -> None:
    """Why a redo must be fenced: the COMMIT reached the server and took effect, only its
    answer was lost, and the client cannot tell. (The aggregator's redo is fenced by the
    offset rows it locks: LedgerRepository.commit_batch.)"""
    forwarder, url = proxy
    table = f"deadline_probe_{uuid.uuid4().hex[:10]}"
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {table} (n int)"))
        with engine.connect() as conn:
            conn.execute(text(f"INSERT INTO {table} VALUES (1)"))
            forwarder.swallow()
            with pytest.raises(OperationalError) as raised:
                conn.commit()
        assert isinstance(raised.value.orig, RoundTripDeadlineExceeded)
        forwarder.swallow(False)
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1
    finally:
        forwarder.swallow(False)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def test_a_statement_running_past_the_deadline_is_cut(proxy: tuple[TcpProxy, URL]) -> None:
    """A server that does not answer in time (a paused primary looks the same)."""
    _, url = proxy
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised:
                conn.execute(text("SELECT pg_sleep(30)"))
            assert time.monotonic() - started < DEADLINE_S + SLACK_S
        assert isinstance(raised.value.orig, RoundTripDeadlineExceeded)
    finally:
        engine.dispose()


def test_connecting_while_answers_are_swallowed_times_out(proxy: tuple[TcpProxy, URL]) -> None:
    """The retry reconnects while the fault may still be on: libpq's connect_timeout (set
    from the deadline, at least 2 s) ends that wait too, instead of psycopg's 130 s."""
    forwarder, url = proxy
    engine = _engine(url)
    forwarder.swallow()
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError):
            engine.connect()
        assert time.monotonic() - started < 2.0 + SLACK_S
    finally:
        forwarder.swallow(False)
        engine.dispose()
