"""The aggregation peer: a Quix Streams application in its exactly-once mode that consumes the
pre-filled events topic and keeps per-category-per-day sums in its state store (RocksDB with a
changelog topic, Quix's defaults).

Run by bench/peers/quix/runtime.py in the peer's own environment (quixstreams is not a
dependency of the product); configuration from the environment:

    QUIX_BROKER        Kafka bootstrap servers
    QUIX_KAFKA_CONFIG  JSON librdkafka connection settings (bootstrap, SASL of the `bench`
                       principal); QUIX_BROKER alone when unset
    QUIX_TOPIC         the pre-filled topic (events encoded by ingest, keyed by bank id)
    QUIX_GROUP         consumer group (fresh per repetition)
    QUIX_STATE_DIR     state directory (fresh per repetition)
    QUIX_MINOR_UNITS   JSON {currency: digits}, the product's table, so sums are exact integers
    QUIX_COMMIT_SECONDS  checkpoint interval (Quix's default is 5 s)

State is scoped by message key, as Quix does it: each bank's (category, currency, day) sums in
minor units, so a category's daily total is the sum over banks, as in our per-bank buckets.
"""

from __future__ import annotations

import json
import logging
import os
from decimal import Decimal
from typing import Any

from quixstreams import Application, State
from quixstreams.kafka.configuration import ConnectionConfig

MINOR_UNITS: dict[str, int] = json.loads(os.environ["QUIX_MINOR_UNITS"])


def add_to_day(value: dict[str, Any], state: State) -> None:
    """Add the event's amount in exact minor units to its (category, currency, day) sum."""
    currency = value["currency"]
    minor = int(Decimal(value["amount"]).scaleb(MINOR_UNITS[currency]))
    key = f"{value['category']}|{currency}|{value['value_date']}"
    state.set(key, state.get(key, 0) + minor)


def main() -> None:
    connection = os.environ.get("QUIX_KAFKA_CONFIG")
    app = Application(
        broker_address=(
            ConnectionConfig.from_librdkafka_dict(json.loads(connection)) if connection else os.environ["QUIX_BROKER"]
        ),
        consumer_group=os.environ["QUIX_GROUP"],
        processing_guarantee="exactly-once",
        # Quix names its transactional producer by a bare UUID when no Quix Cloud workspace
        # prefixes it; the `bench` principal may only use ids under "bench." (Kafka ACLs), so
        # without this the broker refused the transaction coordinator and the peer exited.
        producer_extra_config={"transactional.id": os.environ["QUIX_GROUP"] + ".txn"},
        auto_offset_reset="earliest",
        state_dir=os.environ["QUIX_STATE_DIR"],
        commit_interval=float(os.environ.get("QUIX_COMMIT_SECONDS", "5")),
        loglevel=logging.WARNING,
    )
    topic = app.topic(os.environ["QUIX_TOPIC"], key_deserializer="str", value_deserializer="json")
    app.dataframe(topic).update(add_to_day, stateful=True)
    app.run()


if __name__ == "__main__":
    main()
