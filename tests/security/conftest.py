"""The real stack for security tests: ingest and api processes on the module's isolated
namespace (tests/conftest.py), credentials made through the real `settlementctl`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.support.ctl import printed, settlementctl_ok
from tests.support.intake import Bank, IngestService
from tests.support.services import ServiceRunner


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
        return settlementctl_ok(self.env, *args)

    def operator_key(self, name: str) -> str:
        return printed(self.ctl("operator", "add", name), "api_key")

    def api(self, path: str, key: str) -> httpx.Response:
        return httpx.get(self.api_url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Stack:
    ingest = services.serve("ingest", "settlement_ingest")
    api = services.serve("api", "settlement_api")
    return Stack(IngestService(ingest.url, isolated_env), api.url)
