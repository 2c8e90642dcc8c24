"""`python -m settlement_aggregate.integrator`: the transparency-log integrator process.

Runs settlement_core.tlog.integrate's step in a loop, one transaction per step: straight
again while steps come back full (a backlog), else every TLOG_INTERVAL_S. Any number may
run: the advisory lock lets one write at a time and the others wait their turn (a warm
standby). SIGTERM/SIGINT finish the current step and exit. Settings: TlogSettings.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from sqlalchemy import text

from settlement_core.db.engine import RETRIABLE, make_engine
from settlement_core.logs import configure_logging
from settlement_core.tlog.integrate import integrate_once
from settlement_core.tlog.settings import TlogSettings

logger = logging.getLogger(__name__)


def main() -> None:
    settings = TlogSettings()
    configure_logging("INFO")
    keys, salt_key = settings.keys(), settings.salt_key()
    engine = make_engine(settings.database_url, pool_size=1)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    logger.info("integrator started", extra={"origin": keys.origin, "key_id": f"{keys.active.verifier.key_id:08x}"})
    while not stop.is_set():
        try:
            with engine.begin() as conn:
                result = integrate_once(
                    conn,
                    keys,
                    salt_key,
                    batch=settings.tlog_batch_size,
                    lag_s=settings.tlog_lag_s,
                    now=datetime.now(UTC),
                )
                if settings.tlog_fault_pause_s and result.appended:
                    conn.execute(text("SELECT pg_sleep(:s)"), {"s": settings.tlog_fault_pause_s})
        except RETRIABLE as exc:
            logger.warning("ledger unavailable", extra={"error": f"{type(exc).__name__}: {str(exc)[:200]}"})
            stop.wait(settings.tlog_interval_s)
            continue
        if result.appended:
            logger.info("integrated", extra={"appended": result.appended, "size": result.size})
        if result.locked_out or result.appended < settings.tlog_batch_size:
            stop.wait(settings.tlog_interval_s)
    engine.dispose()
    logger.info("integrator stopped")


if __name__ == "__main__":
    main()
