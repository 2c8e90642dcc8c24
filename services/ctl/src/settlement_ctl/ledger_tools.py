"""`settlementctl rebuild | reconcile | replay`: the Redis projection versus the ledger.

The logic lives in settlement_aggregate.rebuild (shared with the aggregator's own notion of
fences); this module only parses arguments and prints. See docs/aggregator.md (runbook).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import redis
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import Engine

from settlement_aggregate.rebuild import Drift, rebuild, reconcile, rewind
from settlement_aggregate.settings import AggregateSettings
from settlement_core.catalogue import load_catalogue
from settlement_core.db.engine import make_engine
from settlement_core.kafka_io import KafkaAccess, client_config
from settlement_core.redis_io import sync_client
from settlement_core.rule_sets import record_rule_set

REPLAY_HELP = """\
Re-read the events topic from a point in time, through the normal aggregator.

For every partition of EVENTS_TOPIC, finds the first offset whose Kafka timestamp is at or
after the start (00:00 UTC) of --from, and moves this consumer group's offset of record in
PostgreSQL (consumer_offsets.next_offset) back to it. It only ever moves offsets backwards;
partitions already before that point are left alone. Nothing else is changed.

The aggregator (running or started later) then re-reads those messages: events already in
the ledger are recognised as duplicates (counted once, aggregate_duplicates_total rises),
events missing from the ledger (e.g. after restoring PostgreSQL from an older backup) are
recorded, and DLQ-worthy messages are sent to the DLQ again. A running aggregator notices
the moved offset at its next batch (its fence check fails) and seeks there by itself.
Effects recorded at offsets the Redis fence has already passed are not re-applied to Redis
(the projection only ever moves forward): when the consumer lag is back to 0, run
`settlementctl rebuild`, then `settlementctl reconcile` must report no drift.
Use --dry-run to print the offsets without moving them.
"""


def _settings() -> AggregateSettings:
    return AggregateSettings()


def _describe(drift: Drift) -> str:
    parts = drift.field.split("|")
    diff = drift.redis - drift.ledger
    if len(parts) == 5 and parts[0] == "c" and parts[3] == "d":
        where = f"target={parts[1]} day={parts[4]} currency={parts[2]}"
    else:
        where = f"field={drift.field}"
    return f"DRIFT partition={drift.partition} {where} redis={drift.redis} ledger={drift.ledger} diff={diff:+d}"


@contextmanager
def _ledger_and_redis() -> Iterator[tuple[AggregateSettings, Engine, redis.Redis]]:
    """Settings, a one-connection ledger engine and a Redis client with a long timeout
    (rebuild and reconcile move whole partitions in one call)."""
    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        yield settings, engine, sync_client(settings.redis_url, timeout_s=60.0, mode=settings.redis_mode)
    finally:
        engine.dispose()


def run_rebuild(args: argparse.Namespace) -> int:
    only = None if args.partition is None else [args.partition]
    with _ledger_and_redis() as (settings, engine, client):
        # The catalogue's current rules: a rule change is applied to the whole history here.
        rules = load_catalogue(settings.targets_file).rules
        results = rebuild(engine, client, settings.consumer_group, settings.events_topic, rules, only)
        # From now on the projection counts the whole history with these rules: a read at a
        # later knowledge time does too (settlement_core.rule_sets, docs/statistics.md).
        recorded = record_rule_set(engine, rules, "rebuild")
    for r in results:
        print(f"partition {r.partition}: fence {r.fence}, {r.effects} effects, {r.fields} fields")
    print(f"rebuilt {len(results)} partitions from the ledger")
    if recorded.new:
        print(f"rules changed: rule set {recorded.rule_set_id} ({recorded.digest[:12]}) in force from now")
    return 0


def run_reconcile(args: argparse.Namespace) -> int:
    with _ledger_and_redis() as (settings, engine, client):
        rules = load_catalogue(settings.targets_file).rules
        checks = reconcile(engine, client, settings.consumer_group, settings.events_topic, rules)
    drifted = 0
    for check in checks:
        for drift in check.drift:
            print(_describe(drift))
        drifted += len(check.drift)
        if check.lag:
            print(
                f"LAG partition={check.partition} redis_fence={check.redis_fence} "
                f"ledger_fence={check.ledger_fence} (not drift: compared at the Redis fence)"
            )
    fields = sum(c.fields_checked for c in checks)
    print(
        f"checked {len(checks)} partitions, {fields} fields: "
        f"{'no drift' if drifted == 0 else f'{drifted} fields drift'}"
    )
    if drifted:
        return 1
    lagging = [c for c in checks if args.max_lag is not None and c.lag > args.max_lag]
    if lagging:
        print(f"{len(lagging)} partitions lag more than {args.max_lag} offsets")
        return 2
    return 0


def run_replay(args: argparse.Namespace) -> int:
    settings = _settings()
    start = datetime.combine(args.from_date, datetime.min.time(), tzinfo=UTC)
    consumer = KafkaConsumer(**client_config(KafkaAccess.from_settings(settings)), enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(settings.events_topic) or set()
        tps = [TopicPartition(settings.events_topic, p) for p in sorted(partitions)]
        found = consumer.offsets_for_times({tp: int(start.timestamp() * 1000) for tp in tps})
        ends = consumer.end_offsets(tps)
    finally:
        consumer.close()
    # No message at/after the time: the end offset (nothing to re-read there).
    targets = {tp.partition: (found[tp].offset if found.get(tp) else int(ends[tp])) for tp in tps}
    for p, offset in sorted(targets.items()):
        print(f"partition {p}: first offset at/after {start.isoformat()} is {offset}")
    if args.dry_run:
        print("dry run: no offsets moved")
        return 0
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        changed = rewind(engine, settings.consumer_group, settings.events_topic, targets)
    finally:
        engine.dispose()
    for p, old, new in changed:
        print(f"partition {p}: next_offset {old} -> {new}")
    print(
        f"rewound {len(changed)} partitions of group {settings.consumer_group}; run "
        "`settlementctl rebuild` once the aggregator's lag is back to 0"
    )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "rebuild", help="recompute all Redis totals and fences from the ledger (safe while aggregators run)"
    )
    parser.add_argument(
        "--partition",
        type=int,
        default=None,
        metavar="N",
        help="only this partition (e.g. the one aggregate_projection_fence_lag points at)",
    )
    parser.set_defaults(handler=run_rebuild)
    parser = commands.add_parser(
        "reconcile",
        help="compare Redis with the ledger for every target, day and currency; exit 1 on drift",
        description="Compares every Redis field of every partition with "
        "the ledger's totals up to that partition's Redis fence. Exit 0: no drift; 1: drift "
        "(printed as DRIFT lines); 2: no drift but a partition's Redis fence lags the ledger "
        "by more than --max-lag offsets.",
    )
    parser.add_argument(
        "--max-lag",
        type=int,
        default=None,
        metavar="N",
        help="also fail (exit 2) when a Redis fence is more than N offsets "
        "behind the ledger (default: lag is reported, not a failure)",
    )
    parser.set_defaults(handler=run_reconcile)
    parser = commands.add_parser(
        "replay",
        help="re-read the events topic from a date (rewinds the group's offsets)",
        description=REPLAY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="from_date",
        required=True,
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="re-read messages produced at/after this date (00:00 UTC, by Kafka timestamp)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the offsets only")
    parser.set_defaults(handler=run_replay)
