"""Crash test: SIGKILL the aggregator at >= 10 random moments of a >= 50,000-event stream,
one of them forced between the ledger commit and the Redis apply by the test-only fault
hook (AGGREGATE_FAULT). Restart it each time; the final totals equal the oracle's and
`settlementctl reconcile` reports zero drift."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import ServiceRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 4242
KILLS = 11
CHUNK = 1500
CHUNKS_PER_KILL = 3
FAULT_AT_KILL = 3  # the 4th crash is the fault hook's


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    # Corrections too (issue 25 step 4): a correction's two effects must count once across kills.
    msgs = generate(SEED, originals=37_500, banks=24, tag="c", correction_rate=0.05)
    assert len(msgs) >= 50_000
    expected = oracle(msgs)
    rng = random.Random(SEED)
    # A static member id lets each restart take the partitions back without waiting for
    # the killed member's session to expire (the fence does not depend on it).
    base_env = {"AGGREGATE_INSTANCE_ID": "crash-test", "AGGREGATE_BATCH_SIZE": "1000"}

    prod = probe.producer(isolated_env)
    chunks = [msgs[i : i + CHUNK] for i in range(0, len(msgs), CHUNK)]
    assert len(chunks) > CHUNKS_PER_KILL * KILLS  # some of the stream is left after the kills
    # The stream is released in steps, one before each restart, so every incarnation
    # starts with a backlog and is killed with work left, however fast it has become
    # (with a timed feeder the later kills of a faster aggregator found nothing to do).
    allowance = threading.Semaphore(0)
    produced = [0]

    def feed() -> None:
        for chunk in chunks:
            allowance.acquire()
            probe.produce(prod, isolated_env["EVENTS_TOPIC"], chunk)
            produced[0] += len(chunk)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    busy_kills = 0
    window_seen = False
    for kill in range(KILLS):
        for _ in range(CHUNKS_PER_KILL):
            allowance.release()
        release_deadline = time.monotonic() + 60
        while produced[0] < min(len(msgs), (kill + 1) * CHUNKS_PER_KILL * CHUNK):
            assert time.monotonic() < release_deadline, "the feeder is stuck"
            time.sleep(0.05)
        if kill == FAULT_AT_KILL:
            faulty = services.serve(
                "aggregate",
                "settlement_aggregate",
                {**base_env, "AGGREGATE_FAULT": "crash_after_ledger_commit:3"},
                wait=False,
            )
            assert faulty.proc.wait(timeout=60) == 137, "the fault hook did not fire"
            services.procs.pop("aggregate", None)
            # The crash left the ledger ahead of the Redis fence on some partition.
            positions = probe.ledger_positions(isolated_env)
            fences = probe.fences(isolated_env, positions)
            window_seen = any(fences[p] < positions[p] - 1 for p in positions)
        else:
            before = sum(probe.ledger_positions(isolated_env).values())
            services.serve("aggregate", "settlement_aggregate", base_env)
            # Kill while it is busy: once it has committed something, at a random moment.
            deadline = time.monotonic() + 30
            while sum(probe.ledger_positions(isolated_env).values()) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.3))
            services.kill("aggregate")  # SIGKILL
        # Busy: records it had been given were not all in the ledger yet.
        if sum(probe.ledger_positions(isolated_env).values()) < produced[0]:
            busy_kills += 1
    assert window_seen, "no partition was left between ledger commit and Redis apply"
    assert busy_kills >= 10, f"only {busy_kills} kills landed while work was left"

    for _ in range(len(chunks)):
        allowance.release()
    feeder.join(timeout=120)
    assert not feeder.is_alive()
    services.serve("aggregate", "settlement_aggregate", base_env)
    probe.wait_caught_up(isolated_env, timeout=180)

    actual = totals_from_fields(probe.summed_fields(isolated_env))
    assert actual.totals == expected.totals
    assert actual.counts == expected.counts
    assert_reconciled(isolated_env)
