"""The live services of the stack `make test` starts (ports from .stack/stack.env), and a
bank registered there through the real `settlementctl` for the contract runs.

The bank starts with one event on record: the ingest document's first event example, posted
and then waited for until the stack's integrator has logged it (its receipt proof answers
200). The API document's `event_id` example is that event, so the parameter examples and
schemathesis' example phase read a real event and a real proof, not only 404s.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.ctl import printed, settlementctl_ok
from tests.support.ports import stack_url


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
    ingest_url = stack_url(env, "INGEST_PORT")
    api_url = stack_url(env, "API_PORT")
    for url in (ingest_url, api_url):
        try:
            httpx.get(f"{url}/healthz", timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"{url} is not serving ({exc}): `make test` starts the services before pytest")
    bank_id = f"contract-{uuid.uuid4().hex[:8]}"
    added = settlementctl_ok(env, "bank", "add", bank_id, "--name", "Contract test bank", timeout=120)
    operator = settlementctl_ok(env, "operator", "add", f"{bank_id}-operator", timeout=120)
    stack = LiveStack(env, ingest_url, api_url, bank_id, printed(added, "api_key"), printed(operator, "api_key"))
    _first_event_on_record(stack)
    # A release, so the release reads (and the links to them) have one to read: id 1 on a
    # fresh stack, the example the API document gives.
    settlementctl_ok(env, "release", "create", "--period", "2020", "--kind", "preliminary", "--note", "contract")
    return stack


# The integrator logs a row within about a second of the ledger commit; the aggregator's
# commit follows intake within seconds. Generous for a loaded shared machine.
PROOF_WAIT_S = 180


def _first_event_on_record(stack: LiveStack) -> None:
    ingest_doc: dict[str, Any] = httpx.get(f"{stack.ingest_url}/openapi.json", timeout=30).json()
    event = ingest_doc["components"]["schemas"]["EventIn"]["examples"][0]
    auth = {"Authorization": f"Bearer {stack.bank_key}"}
    posted = httpx.post(f"{stack.ingest_url}/v1/events", json=event, headers=auth, timeout=30)
    assert posted.status_code in (200, 202), posted.text
    proof_url = f"{stack.api_url}/v1/receipts/{event['event_id']}/proof"
    deadline = time.monotonic() + PROOF_WAIT_S
    while (answer := httpx.get(proof_url, headers=auth, timeout=30)).status_code == 404:
        if time.monotonic() > deadline:
            pytest.fail(f"{event['event_id']} not in the log after {PROOF_WAIT_S} s: is the integrator running?")
        time.sleep(0.5)
    assert answer.status_code == 200, answer.text
