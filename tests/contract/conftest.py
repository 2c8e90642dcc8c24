"""The live services of the stack `make test` starts (ports from .stack/stack.env), and a
bank registered there through the real `settlementctl` for the contract runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import stack_env

SETTLEMENTCTL = Path(sys.executable).with_name("settlementctl")


@dataclass(frozen=True)
class LiveStack:
    env: dict[str, str]
    ingest_url: str
    api_url: str
    bank_id: str
    bank_key: str


@pytest.fixture(scope="session")
def live() -> LiveStack:
    env = stack_env()
    ingest_url = f"http://127.0.0.1:{env['INGEST_PORT']}"
    api_url = f"http://127.0.0.1:{env['API_PORT']}"
    for url in (ingest_url, api_url):
        try:
            httpx.get(f"{url}/healthz", timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"{url} is not serving ({exc}): `make test` starts the services before pytest")
    bank_id = f"contract-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [str(SETTLEMENTCTL), "bank", "add", bank_id, "--name", "Contract test bank"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    key = re.search(r"^api_key: (\S+)$", done.stdout, re.MULTILINE)
    assert key, done.stdout
    return LiveStack(env, ingest_url, api_url, bank_id, key.group(1))
