"""Micro-benchmark of the aggregator's decode step (issue 23, step 1): CPU microseconds per
event of the record-by-record decode (`classify` on each record: json.loads, then
fast_decoder or the strict decoder) against the columnar one (`split`: msgspec over the
poll, repeated checks once per distinct value), on the same synthetic polls.

Pure CPU, no servers: `python -m bench.stages.decode_micro [--events N] [--poll N]`.
The events are the aggregator stage's (`bench.load.prefill.synthetic_event`), with one
received_at per intake request of `--request` events, as ingest stamps them. The figure is
only as quiet as the machine: the line printed gives the load average it ran under.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.config import SEED_CATALOGUE
from bench.load.prefill import PREFILL_BANKS, synthetic_event
from settlement_aggregate.decode import InvalidRecord, Received, Valid, classify, split
from settlement_core.catalogue import load_catalogue
from settlement_core.events import Envelope, encode
from settlement_core.gc_tuning import tune_after_startup


def synthetic_polls(events: int, poll: int, request: int, seed: int = 23) -> list[list[Received]]:
    rng = random.Random(seed)
    received = datetime(2026, 12, 7, tzinfo=UTC)
    records = []
    for n in range(events):
        if n % request == 0:
            received += timedelta(milliseconds=rng.randrange(1, 50))
        bank = PREFILL_BANKS[n % len(PREFILL_BANKS)]
        value = encode(Envelope(synthetic_event(rng, bank, f"micro-{n:010d}"), received))
        records.append(Received(n % 12, n, bank.encode(), value))
    return [records[i : i + poll] for i in range(0, len(records), poll)]


def record_by_record(records: list[Received], codes: frozenset[str]) -> tuple[list[Valid], list[InvalidRecord]]:
    """Today's per-record decode, as `split` did it before the columnar pass."""
    valid: list[Valid] = []
    invalid: list[InvalidRecord] = []
    for record in records:
        item = classify(record, codes)
        if isinstance(item, Valid):
            valid.append(item)
        else:
            invalid.append(item)
    return valid, invalid


Decode = Callable[[list[Received], frozenset[str]], tuple[list[Valid], list[InvalidRecord]]]


def cpu_us_per_event(decode: Decode, polls: list[list[Received]], codes: frozenset[str], reps: int) -> float:
    """The best of `reps` passes over every poll, in process CPU µs per event."""
    events = sum(len(p) for p in polls)
    best = float("inf")
    for _ in range(reps):
        started = time.process_time()
        for records in polls:
            decode(records, codes)
        best = min(best, time.process_time() - started)
    return best / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--poll", type=int, default=10_000, help="records per poll (AGGREGATE_BATCH_SIZE)")
    parser.add_argument("--request", type=int, default=100, help="events per intake request (one received_at)")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    codes = frozenset(load_catalogue(SEED_CATALOGUE).codes)
    polls = synthetic_polls(args.events, args.poll, args.request)
    # The aggregator process runs with this GC tuning; without it collections triggered by
    # each poll's tens of thousands of live objects dominate both figures.
    tune_after_startup()
    # Both paths must agree before their speed means anything.
    for records in polls:
        assert split(records, codes) == record_by_record(records, codes)
    old = cpu_us_per_event(record_by_record, polls, codes, args.reps)
    new = cpu_us_per_event(split, polls, codes, args.reps)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"decode of {args.events} events in polls of {args.poll}, best of {args.reps}: "
        f"record by record {old:.2f} µs/event, columnar {new:.2f} µs/event "
        f"({old / new:.2f}x); load average {load} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
