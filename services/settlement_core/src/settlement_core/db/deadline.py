"""A client-side deadline on every PostgreSQL round trip of a service's connections.

Why: a network fault can swallow an answer while the TCP connection stays open and
acknowledged (toxiproxy's `timeout` toxic with timeout 0; a middlebox that drops a flow;
a paused server). tcp_user_timeout and keepalives then see a healthy connection, and a
server-side statement_timeout either never starts (the query never arrived) or its error
is swallowed too, so psycopg waits for the answer for ever. The nemesis found exactly
that (seed 20261207): both aggregators blocked in a ledger call for 6 minutes with 393
acknowledged events unapplied, until they were stopped.

psycopg runs every blocking exchange on an open connection (execute, fetch, COPY, commit,
rollback, the pool's pre-ping, a reset on check-in) through `Connection.wait`, so that is
the one place a deadline covers them all. `DeadlineConnection.wait` gives each exchange
`deadline_s`; past it the connection is closed (libpq's `finish`: the socket is shut, the
server's backend sees EOF and rolls back whatever was open), and the call raises
`RoundTripDeadlineExceeded`, a `psycopg.OperationalError`. SQLAlchemy sees a closed
connection, so it reports a disconnect and drops the connection from the pool, and the
caller's usual retry runs on a fresh one (`engine.RETRIABLE` covers it).

A commit whose answer was swallowed has an unknown outcome: it may have committed. Only a
caller whose redo is idempotent may retry it; the aggregator's is, because
`LedgerRepository.commit_batch` locks the partitions' offset rows and compares them with
what it believes, so a redo of a batch that did commit is fenced, not written twice.

The connection attempt itself has libpq's `connect_timeout` (psycopg's default is 130 s);
`install` sets it to the deadline unless the URL names one.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import psycopg
from psycopg.abc import PQGen
from psycopg.errors import _WaitTimeout  # psycopg's own "wait timed out" (3.2+): it is what `timeout=` raises
from psycopg.rows import TupleRow
from sqlalchemy import Engine, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger(__name__)

# psycopg's own wake-up interval for Ctrl-C checks inside a wait (connection._WAIT_INTERVAL).
_WAIT_INTERVAL_S = 0.1


class RoundTripDeadlineExceeded(psycopg.OperationalError):
    """No answer from PostgreSQL within the deadline; the connection has been closed."""


class DeadlineConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose every round trip has a deadline (`deadline_s`)."""

    deadline_s: float | None = None

    def wait(self, gen: PQGen[Any], interval: float = _WAIT_INTERVAL_S, timeout: float | None = None) -> Any:
        # A caller that passes its own timeout (psycopg's notifies(), cancel) keeps it.
        if timeout is not None or self.deadline_s is None:
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.deadline_s)
        except _WaitTimeout:
            # The exchange is half done and its answer may still arrive: the connection
            # cannot be reused. Closing it shuts the socket, so nothing else waits on it.
            self.pgconn.finish()
            # SQLAlchemy's pre-ping swallows this error and reconnects: log it here, once.
            logger.warning(
                "postgres round trip past the deadline: connection closed", extra={"deadline_s": self.deadline_s}
            )
            raise RoundTripDeadlineExceeded(
                f"no answer from PostgreSQL within {self.deadline_s:g} s: connection closed"
            ) from None


def install(engine: Engine, deadline_s: float) -> None:
    """Make every connection `engine` opens a `DeadlineConnection` with `deadline_s`."""

    @event.listens_for(engine, "do_connect")
    def connect(
        dialect: Dialect, conn_rec: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
    ) -> DeadlineConnection:
        del dialect, conn_rec
        cparams.setdefault("connect_timeout", max(2, math.ceil(deadline_s)))
        conn = DeadlineConnection.connect(*cargs, **cparams)
        conn.deadline_s = deadline_s
        return conn
