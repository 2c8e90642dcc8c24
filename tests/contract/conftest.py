"""The live services of the stack `make test` starts (ports from .stack/stack.env), and a
bank registered there through the real `settlementctl` for the contract runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.support.ctl import printed, settlementctl_ok


@dataclass(frozen=True)
class LiveStack:
    env: dict[str, str]
    ingest_url: str
    api_url: str
    bank_id: str
    bank_key: str
    operator_key: str


@pytest.fixture(scope="session")
def live(stack_environment: dict[str, str]) -> LiveStack:
    env = stack_environment
    ingest_url = f"http://127.0.0.1:{env['INGEST_PORT']}"
    api_url = f"http://127.0.0.1:{env['API_PORT']}"
    for url in (ingest_url, api_url):
        try:
            httpx.get(f"{url}/healthz", timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"{url} is not serving ({exc}): `make test` starts the services before pytest")
    bank_id = f"contract-{uuid.uuid4().hex[:8]}"
    added = settlementctl_ok(env, "bank", "add", bank_id, "--name", "Contract test bank", timeout=120)
    operator = settlementctl_ok(env, "operator", "add", f"{bank_id}-operator", timeout=120)
    return LiveStack(env, ingest_url, api_url, bank_id, printed(added, "api_key"), printed(operator, "api_key"))
