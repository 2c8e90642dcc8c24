"""The whole intake path for one test module: ingest, the aggregator and the API as real
processes on the module's isolated PostgreSQL, Redis and Kafka topic (tests/conftest.py),
with registered banks and an operator, and their keys as request headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.support.principals import add_bank_and_operator
from tests.support.services import ServiceRunner


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True, slots=True)
class Pipeline:
    ingest: str
    api: str
    database_url: str
    banks: Mapping[str, dict[str, str]]  # bank id -> its key's headers
    operator: dict[str, str]


def serve_pipeline(
    isolated_env: dict[str, str],
    services: ServiceRunner,
    banks: Sequence[tuple[str, str]],
    api_env: Mapping[str, str],
) -> Pipeline:
    """Registers `banks` ((id, name) pairs; an operator with each, the first one's kept) and
    starts ingest, one aggregator and the API with `api_env`."""
    url = isolated_env["DATABASE_URL"]
    keys: dict[str, dict[str, str]] = {}
    operator: dict[str, str] | None = None
    for bank_id, name in banks:
        key, operator_key = add_bank_and_operator(url, bank_id, name, f"{bank_id}-ops")
        keys[bank_id] = bearer(key)
        operator = operator or bearer(operator_key)
    assert operator is not None, "at least one bank"
    ingest = services.serve("ingest", "settlement_ingest")
    services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api", dict(api_env))
    return Pipeline(ingest.url, api.url, url, keys, operator)
