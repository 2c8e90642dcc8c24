"""M3: intake charged for its work only after doing it. A 4 MB ISO 20022 message was parsed
(~2 s of CPU for 40,000 transactions) before the limiter, which counts events, could
charge anything; a bank could stream such messages at will.

Now the bank's byte bucket is charged from the declared Content-Length before the body is
read. The attack below, against a real ingest on the real Redis/Kafka/PostgreSQL:

1. a 4 MB pacs.008 of 12,000 transactions (too many: 422 once parsed) is charged its size;
2. the next such message gets 429 problem+json with Retry-After although its body was never
   sent: the server answered from the headers alone, so it cannot have parsed anything.

On the starting code, (1) leaves no byte bucket in Redis and (2) gets no answer at all (the
server waits for the body), so both assertions fail; a 4 MB body was parsed every time.
"""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from tests.conftest import ServiceRunner
from tests.security.intake_support import connect, head, metric, pacs008, post_retrying, read_response
from tests.support.intake import IngestService, start_ingest

pytestmark = pytest.mark.integration

MAX_XML = 4 * 1024 * 1024
# The smallest burst allowed (it must hold a maximal body) and a refill so slow that the
# second message can never be paid for during the test: 4 MB at 1 KiB/s is ~1 hour.
BURST = MAX_XML + 512 * 1024
ENV = {"BANK_BYTES_PER_SECOND": "1024", "BANK_BYTES_BURST": str(BURST)}


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services, ENV)


def _bucket_tokens(env: dict[str, str], bank_id: str) -> float:
    raw = redis.Redis.from_url(env["REDIS_URL"]).hget(f"rl:{{{bank_id}}}:bytes", "tokens")
    assert raw is not None, "no byte bucket in Redis: nothing was charged before parsing"
    return float(raw)


def test_big_iso_message_is_charged_before_it_is_parsed(ingest: IngestService, isolated_env: dict[str, str]) -> None:
    bank = ingest.add_bank("SECISO1", "--bic", "CQRCCNBJ")
    message = pacs008(12_000)
    assert 3_500_000 < len(message) <= MAX_XML
    headers = {**bank.auth, "Content-Type": "application/xml"}
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        first = client.post("/v1/iso20022", params={"category": "cross_border_rmb"}, content=message, headers=headers)
        # Parsed (12,000 transactions, over the 1,000 limit), and paid for.
        assert first.status_code == 422, first.text
        tokens = _bucket_tokens(isolated_env, bank.bank_id)
        assert tokens < BURST - len(message) + 60 * 1024  # refill at 1 KiB/s cannot explain more
        metrics_before = client.get("/metrics").text

    # The same message again, but only its headers: the budget is spent, so the answer must
    # come before the body (which is never sent).
    sock = connect(ingest.url)
    try:
        sock.sendall(
            head(
                "POST",
                "/v1/iso20022?category=cross_border_rmb",
                {**headers, "Content-Length": str(len(message))},
            )
        )
        refused = read_response(sock)
    finally:
        sock.close()
    assert refused.status == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    problem = refused.json()
    assert problem["type"].endswith("/rate-limited")
    assert "not read" in problem["detail"]

    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        metrics_after = client.get("/metrics").text
        # Counted as a refusal before reading; no event outcome was recorded for it.
        refusals = "ingest_requests_refused_total"
        assert metric(metrics_after, refusals, reason="bytes") == metric(metrics_before, refusals, reason="bytes") + 1
        events = "ingest_events_total"
        for reason in ("malformed", "validation", "rate_limited"):
            assert metric(metrics_after, events, outcome="rejected", reason=reason) == metric(
                metrics_before, events, outcome="rejected", reason=reason
            )
        # The limit is the bank's own: another bank is served.
        other = ingest.add_bank("SECISO2", "--bic", "CQRCCNBJ")
        small = post_retrying(
            client,
            "/v1/iso20022",
            params={"category": "cross_border_rmb"},
            content=pacs008(2),
            headers={**other.auth, "Content-Type": "application/xml"},
        )
        assert small.status_code == 200, small.text
        assert small.json()["accepted"] == 2


def test_big_invalid_json_body_still_debits_the_bucket(ingest: IngestService, isolated_env: dict[str, str]) -> None:
    bank = ingest.add_bank("SECJSON1")
    body = b'{"events": [' + b"1," * 500_000 + b"x]}"  # ~1 MB, not JSON
    assert len(body) < 1024 * 1024
    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post(
            "/v1/events/batch", content=body, headers={**bank.auth, "Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert json.loads(response.content)["type"].endswith("/malformed-json")
    assert _bucket_tokens(isolated_env, bank.bank_id) < BURST - len(body) + 60 * 1024


def test_chunked_body_pays_the_maximum(ingest: IngestService, isolated_env: dict[str, str]) -> None:
    """Without Content-Length the size is only known after reading, so the endpoint's
    maximum is charged up front: a chunked upload cannot dodge the charge."""
    bank = ingest.add_bank("SECCHUNK", "--bic", "CQRCCNBJ")

    def chunks() -> object:
        yield pacs008(1, amount="0")  # rejected item: the answer needs no Kafka round trip

    with httpx.Client(base_url=ingest.url, timeout=60) as client:
        response = client.post(
            "/v1/iso20022",
            params={"category": "cross_border_rmb"},
            content=chunks(),  # type: ignore[arg-type]
            headers={**bank.auth, "Content-Type": "application/xml"},
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 200, response.text
    assert _bucket_tokens(isolated_env, bank.bank_id) < BURST - MAX_XML + 60 * 1024
