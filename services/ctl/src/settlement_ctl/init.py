"""`settlementctl init`: migrate the ledger, create topics and their ACLs, load FX seeds,
check targets. Runs as the Kafka `admin` principal (KAFKA_USERNAME/KAFKA_PASSWORD)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from settlement_aggregate.settings import AggregateSettings
from settlement_core.db.engine import make_engine
from settlement_core.db.migrate import upgrade
from settlement_core.db.models import FxRateRow
from settlement_core.fx import load_fx_csv
from settlement_core.kafka_io import KafkaAccess, ensure_topics
from settlement_core.targets import load_targets
from settlement_ctl.kafka_acls import apply_grants, service_grants


def load_fx_rates(database_url: str, path: Path) -> int:
    """Upsert the FX seed file into the fx_rates table; returns the number of rows."""
    rates = load_fx_csv(path)
    engine = make_engine(database_url, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            for rate in rates:
                values: dict[str, Any] = {
                    "currency": rate.currency,
                    "valid_from": rate.valid_from,
                    "cny_per_unit": rate.cny_per_unit,
                    "source": rate.source,
                    "sample": rate.sample,
                }
                statement = insert(FxRateRow).values(**values)
                session.execute(statement.on_conflict_do_update(index_elements=["currency", "valid_from"], set_=values))
    finally:
        engine.dispose()
    return len(rates)


def run(args: argparse.Namespace) -> int:
    # The aggregator's settings: its consumer group is named in the ACLs.
    settings = AggregateSettings()
    targets = load_targets(settings.targets_file)
    upgrade(settings.database_url)
    access = KafkaAccess.from_settings(settings)
    ensure_topics(
        access,
        {settings.events_topic: settings.events_partitions, settings.dlq_topic: 1},
        replication_factor=settings.topic_replication_factor,
        min_insync_replicas=settings.topic_min_insync_replicas,
    )
    loaded = 0
    if settings.fx_rates_file is not None:
        loaded = load_fx_rates(settings.database_url, settings.fx_rates_file)
    acls = 0
    if access.uses_sasl:  # a broker without authentication has no principals to authorise
        acls = apply_grants(access, service_grants(settings.events_topic, settings.dlq_topic, settings.consumer_group))
    print(
        f"initialised: {len(targets)} targets valid, schema at head, topics ready, {acls} Kafka ACLs in place, "
        f"{loaded} FX rates loaded"
    )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("init", help="migrate, create topics, load FX seeds (idempotent)")
    parser.set_defaults(handler=run)
