"""Events refused for their content, counted per bank for the data-quality score.

A 422 at the edge (a single event, a batch item or an ISO 20022 transaction that fails
validation) changes nothing and is not kept, but a regulator scores how often a bank sends
such events (issue 25, the quality score's `rejections` component). Counting it must not
cost the request a PostgreSQL round trip, so each worker keeps its counts in process
(`RejectionTally`, pure) and adds them to `intake_rejections` every
REJECTIONS_FLUSH_SECONDS in one statement (`flush`), and once more on shutdown.

What a crash costs: a SIGKILLed worker loses the counts of its last flush interval (2 s by
default). These are quality indicators, not figures: nothing counted toward a target
depends on them. A failed flush keeps its counts for the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextlib import suppress
from datetime import date

from sqlalchemy import Engine, func
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from settlement_core.db.models import IntakeRejection

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (bank_id, "YYYY-MM" of receipt)


class RejectionTally:
    """Counts not yet written, by bank and month of receipt. Used on the event loop only."""

    def __init__(self) -> None:
        self._counts: Counter[Key] = Counter()

    def note(self, bank_id: str, count: int, received: date) -> None:
        if count > 0:
            self._counts[(bank_id, f"{received:%Y-%m}")] += count

    def take(self) -> dict[Key, int]:
        """Everything counted so far, leaving the tally empty."""
        taken, self._counts = dict(self._counts), Counter()
        return taken

    def give_back(self, counts: dict[Key, int]) -> None:
        """Counts a failed flush could not write: kept for the next one."""
        self._counts.update(counts)

    def pending(self) -> dict[Key, int]:
        return dict(self._counts)


def add_counts(counts: dict[Key, int]) -> Insert:
    """One statement adding `counts` to the stored ones (workers flush independently, so the
    stored count is only ever increased, never overwritten)."""
    statement = insert(IntakeRejection).values(
        [
            {"bank_id": bank, "period": period, "count": count, "updated_at": func.now()}
            for (bank, period), count in sorted(counts.items())
        ]
    )
    return statement.on_conflict_do_update(
        index_elements=[IntakeRejection.bank_id, IntakeRejection.period],
        set_={"count": IntakeRejection.count + statement.excluded.count, "updated_at": func.now()},
    )


def _write(engine: Engine, counts: dict[Key, int]) -> None:
    with engine.begin() as conn:
        conn.execute(add_counts(counts))


async def flush(tally: RejectionTally, engine: Engine) -> int:
    """Writes what the tally holds; returns the number of events written (0 on failure, the
    counts then stay in the tally). A bank deleted since its refusal fails the foreign key
    and so the whole statement: those counts are dropped with a log rather than retried for
    ever (banks are deactivated, not deleted, in normal operation)."""
    counts = tally.take()
    if not counts:
        return 0
    try:
        await asyncio.to_thread(_write, engine, counts)
    except IntegrityError:
        logger.warning("rejection counts of a deleted bank dropped", extra={"banks": sorted({b for b, _ in counts})})
        return 0
    except SQLAlchemyError as exc:
        tally.give_back(counts)
        logger.warning("rejection counts not written; kept for the next flush", extra={"error": type(exc).__name__})
        return 0
    return sum(counts.values())


async def flush_every(tally: RejectionTally, engine: Engine, interval_s: float, stopping: asyncio.Event) -> None:
    """Flushes every `interval_s` until `stopping` is set, then once more."""
    while not stopping.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)
        await flush(tally, engine)
