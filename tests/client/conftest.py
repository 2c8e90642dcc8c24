"""The real pipeline for client tests: ingest, aggregate and api processes on the module's
isolated namespace (tests/conftest.py), banks registered through the real `settlementctl`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import ServiceRunner, free_port
from tests.ingest.conftest import Bank, IngestService, printed, settlementctl


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
        return printed(settlementctl(self.env, "operator", "add", name), "api_key")


@pytest.fixture(scope="module")
def pipeline(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    ports = {"ingest": free_port(), "api": free_port(), "aggregate": free_port()}
    services.start("ingest", "settlement_ingest", ports["ingest"], {"INGEST_PORT": str(ports["ingest"])})
    services.start("aggregate", "settlement_aggregate", ports["aggregate"], {"AGGREGATE_PORT": str(ports["aggregate"])})
    services.start("api", "settlement_api", ports["api"], {"API_PORT": str(ports["api"])})
    return Pipeline(
        IngestService(f"http://127.0.0.1:{ports['ingest']}", isolated_env),
        f"http://127.0.0.1:{ports['api']}",
        f"http://127.0.0.1:{ports['aggregate']}",
    )
