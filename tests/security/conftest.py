"""The real stack for security tests: ingest and api processes on the module's isolated
namespace (tests/conftest.py), credentials made through the real `settlementctl`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import ServiceRunner, free_port
from tests.ingest.conftest import Bank, IngestService, printed, settlementctl


@dataclass
class Stack:
    ingest: IngestService
    api_url: str

    @property
    def env(self) -> dict[str, str]:
        return self.ingest.env

    def bank(self, bank_id: str, *extra: str) -> Bank:
        return self.ingest.add_bank(bank_id, *extra)

    def ctl(self, *args: str) -> str:
        return settlementctl(self.env, *args)

    def operator_key(self, name: str) -> str:
        return printed(self.ctl("operator", "add", name), "api_key")

    def api(self, path: str, key: str) -> httpx.Response:
        return httpx.get(self.api_url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Stack:
    ingest_port, api_port = free_port(), free_port()
    services.start("ingest", "settlement_ingest", ingest_port, {"INGEST_PORT": str(ingest_port)})
    services.start("api", "settlement_api", api_port, {"API_PORT": str(api_port)})
    return Stack(IngestService(f"http://127.0.0.1:{ingest_port}", isolated_env), f"http://127.0.0.1:{api_port}")
