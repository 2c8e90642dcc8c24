"""M3: problem documents are bounded whatever the input.

A 1 MB body of unknown fields answered a 4.9 MB problem document (one error per field),
and a batch of events with many unknown fields answered 6.3 MB: the server amplified the
attacker's bytes. Now a problem lists at most 50 errors with `error_count` and
`errors_truncated`, pointers and messages are cut, and a batch answer holds at most 10
errors per item and 1,000 in all. On the starting code both documents below are megabytes.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ServiceRunner
from tests.support.intake import Bank, IngestService, start_ingest

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services)


@pytest.fixture(scope="module")
def bank(ingest: IngestService) -> Bank:
    return ingest.add_bank("SECPROB")


def test_a_megabyte_of_unknown_fields_answers_a_small_document(ingest: IngestService, bank: Bank) -> None:
    fields = ",".join(f'"unknown_field_{i:06d}":0' for i in range(38_000))
    body = ('{"events":[],' + fields + "}").encode()
    assert 900_000 < len(body) < 1024 * 1024
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post("/v1/events/batch", content=body, headers={**bank.auth, **JSON})
    assert response.status_code == 422
    assert len(response.content) < 16_000, len(response.content)
    problem = response.json()
    assert len(problem["errors"]) == 50
    assert problem["error_count"] == 38_000
    assert problem["errors_truncated"] is True


def test_a_long_field_name_is_not_echoed(ingest: IngestService, bank: Bank) -> None:
    body = json.dumps({"x" * 500_000: 1}).encode()
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post("/v1/events", content=body, headers={**bank.auth, **JSON})
    assert response.status_code == 422
    assert len(response.content) < 8_000, len(response.content)
    assert all(len(e["pointer"]) <= 161 for e in response.json()["errors"])


def test_a_batch_of_noisy_events_answers_a_bounded_document(ingest: IngestService, bank: Bank) -> None:
    noisy = "{" + ",".join(f'"k{i}":0' for i in range(100)) + "}"
    body = ('{"events":[' + ",".join([noisy] * 1000) + "]}").encode()
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post("/v1/events/batch", content=body, headers={**bank.auth, **JSON})
    assert response.status_code == 200
    assert len(response.content) < 600_000, len(response.content)
    results = response.json()["results"]
    assert len(results) == 1000
    assert all(r["status"] == "rejected" for r in results)
    first = results[0]["problem"]
    # 100 unknown fields + 7 missing ones.
    assert first["error_count"] == 107
    assert len(first["errors"]) == 10
    assert first["errors_truncated"] is True
    assert sum(len(r["problem"].get("errors", [])) for r in results) <= 1000
    assert all(r["problem"]["error_count"] == 107 for r in results)


def test_a_megabyte_of_invalid_json_answers_a_small_document(ingest: IngestService, bank: Bank) -> None:
    body = b"[" + b'"a",' * 250_000 + b"x]"
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post("/v1/events", content=body, headers={**bank.auth, **JSON})
    assert response.status_code == 400
    assert len(response.content) < 2_000
