"""Keep CPython's cyclic garbage collector off the per-event path of a long-running service.

A batch (an aggregator poll, an ingest request of 1000 events) allocates tens of thousands
of container objects that all live until it ends, so with the default thresholds the
collector runs dozens to hundreds of times per batch and each run re-scans the survivors
and everything start-up built (FastAPI, pydantic, SQLAlchemy, kafka-python, redis-py).
Measured: 5-10 of ~40 us per event in the aggregator's pure steps; 16.9 -> 13.8 us per event
in ingest's pure steps of a 1000-event batch. Freezing what start-up built takes it out of
every later collection; a larger first threshold makes young collections rare. Only cyclic
garbage waits longer; reference counting still frees everything else at once.
"""

from __future__ import annotations

import gc


def tune_after_startup() -> None:
    """Call once start-up has built its long-lived objects."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
