"""The real pipeline for client tests: ingest, aggregate and api processes on the module's
isolated namespace (tests/conftest.py), banks registered through the real `settlementctl`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.ctl import printed, settlementctl_ok
from tests.support.intake import Bank, IngestService
from tests.support.services import ServiceRunner


@dataclass
class Pipeline:
    ingest: IngestService
    api_url: str
    aggregate_url: str

    @property
    def env(self) -> dict[str, str]:
        return self.ingest.env

    def bank(self, bank_id: str, *extra: str) -> Bank:
        return self.ingest.add_bank(bank_id, *extra)

    def operator_key(self, name: str) -> str:
        return printed(settlementctl_ok(self.env, "operator", "add", name), "api_key")


@pytest.fixture(scope="module")
def pipeline(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return start_pipeline(isolated_env, services)


def start_pipeline(env: dict[str, str], services: ServiceRunner, ingest_env: dict[str, str] | None = None) -> Pipeline:
    """Ingest, aggregator and API processes on the namespace, each on a free port."""
    ingest = services.serve("ingest", "settlement_ingest", ingest_env)
    aggregate = services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api")
    return Pipeline(IngestService(ingest.url, env), api.url, aggregate.url)
