"""`settlementctl init`: migrate the ledger, create topics and their ACLs, load FX seeds,
check targets. Runs as the Kafka `admin` principal (KAFKA_USERNAME/KAFKA_PASSWORD).

KAFKA_MANAGE_ACLS=false leaves the ACLs to whoever owns them instead: under Strimzi the User
Operator reconciles each KafkaUser's ACLs back to its resource, so a second writer (init as
admin) would only make two sets to keep equal (docs/security/deploy.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from settlement_aggregate.settings import AggregateSettings
from settlement_core.catalogue import load_catalogue, load_targets
from settlement_core.db.engine import make_engine
from settlement_core.db.migrate import upgrade
from settlement_core.db.models import FxRateRow
from settlement_core.fx import load_fx_csv
from settlement_core.kafka_io import KafkaAccess, ensure_topics
from settlement_core.rule_sets import record_rule_set
from settlement_ctl.kafka_acls import Grant, apply_grants, service_grants


class InitSettings(AggregateSettings):
    """The aggregator's settings (its consumer group is named in the ACLs) plus init's own."""

    # False when an operator (Strimzi's User Operator) owns the principals' ACLs.
    kafka_manage_acls: bool = True


def grants_to_apply(settings: InitSettings, uses_sasl: bool) -> tuple[Grant, ...]:
    """Pure: the ACLs init creates; none on a broker without authentication (no principals
    to authorise) or when KAFKA_MANAGE_ACLS=false."""
    if not (uses_sasl and settings.kafka_manage_acls):
        return ()
    return service_grants(settings.events_topic, settings.dlq_topic, settings.consumer_group)


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


def record_first_rule_set(database_url: str, targets_file: Path) -> None:
    """The rules the projection counts with from the start (settlement_core.rule_sets)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        record_rule_set(engine, load_catalogue(targets_file).rules, "init", first_only=True)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    settings = InitSettings()
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
    record_first_rule_set(settings.database_url, settings.targets_file)
    grants = grants_to_apply(settings, access.uses_sasl)
    acls = apply_grants(access, grants) if grants else 0
    acl_note = f"{acls} Kafka ACLs in place" if settings.kafka_manage_acls else "Kafka ACLs left to their operator"
    print(
        f"initialised: {len(targets)} targets valid, schema at head, topics ready, {acl_note}, {loaded} FX rates loaded"
    )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("init", help="migrate, create topics, load FX seeds (idempotent)")
    parser.set_defaults(handler=run)
