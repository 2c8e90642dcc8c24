"""`Client` against the real ingest (and api) processes, Kafka, Redis and PostgreSQL."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from settlement_client import (
    Client,
    Conflict,
    Forbidden,
    InvalidRequest,
    RetryPolicy,
    Unauthorized,
)
from tests.client.conftest import Pipeline
from tests.support.intake import SAMPLES, event, read_topic

pytestmark = pytest.mark.integration


def requests_count(pipeline: Pipeline, route: str, status: str) -> float:
    text = httpx.get(f"{pipeline.ingest.url}/metrics", timeout=10).text
    labels = rf'(?=[^}}]*route="{re.escape(route)}")(?=[^}}]*status="{status}")'
    pattern = rf"^ingest_http_requests_total\{{{labels}[^}}]*\}} (\S+)$"
    return sum(float(m) for m in re.findall(pattern, text, re.MULTILINE))


def fresh(**overrides: Any) -> dict[str, Any]:
    return event(event_id=f"cl-{uuid.uuid4().hex[:12]}", **overrides)


def test_submit_then_resubmit_is_a_duplicate(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-SINGLE")
    body = fresh()
    with Client(pipeline.ingest.url, bank.key) as client:
        first = client.submit(body)
        again = client.submit(body)
    assert (first.event_id, first.status, first.duplicate) == (body["event_id"], "accepted", False)
    assert (again.status, again.duplicate) == ("duplicate", True)
    on_topic = [v for _, v in read_topic(pipeline.env) if body["event_id"].encode() in v]
    assert len(on_topic) == 1


def test_typed_errors_carry_the_problem_document(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-ERRORS")
    with Client(pipeline.ingest.url, bank.key) as client:
        with pytest.raises(InvalidRequest) as invalid:
            client.submit(fresh(amount=12.5, counterparty_country="UK"))
        assert {e.pointer for e in invalid.value.problem.errors} == {"#/amount", "#/counterparty_country"}
        assert invalid.value.problem.document["instance"] == "/v1/events"
        body = fresh()
        client.submit(body)
        with pytest.raises(Conflict) as conflict:
            client.submit({**body, "amount": "1.00"})
        assert conflict.value.status == 409
    with Client(pipeline.ingest.url, "stk_not-a-key") as client, pytest.raises(Unauthorized):
        client.submit(fresh())
    with Client(pipeline.ingest.url, pipeline.operator_key("cl-auditor")) as client, pytest.raises(Forbidden):
        client.submit(fresh())


def test_batches_are_chunked_with_per_item_results_by_index(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-BATCH")
    events = [fresh() for _ in range(2300)]
    events[5]["amount"] = "-5"
    events[2100]["currency"] = "XXX"
    events[1500] = dict(events[1499])  # the same event twice: the second is a duplicate
    before = requests_count(pipeline, "/v1/events/batch", "200")
    with Client(pipeline.ingest.url, bank.key) as client:
        result = client.submit_batch(events)
    assert requests_count(pipeline, "/v1/events/batch", "200") - before == 3  # 1000 + 1000 + 300
    assert [r.index for r in result.results] == list(range(2300))
    assert (result.accepted, result.duplicates, result.rejected) == (2297, 1, 2)
    bad = {r.index: r for r in result.rejections}
    assert set(bad) == {5, 2100}
    assert bad[2100].event_id == events[2100]["event_id"]
    # Pointers are into the caller's list, not into the chunk the item travelled in.
    assert bad[2100].problem is not None
    assert [e.pointer for e in bad[2100].problem.errors] == ["#/events/2100/currency"]
    assert result.results[1500].status == "duplicate"
    ids = {v.split(b'"event_id":"', 1)[1].split(b'"', 1)[0] for _, v in read_topic(pipeline.env) if b"cl-" in v}
    assert {e["event_id"].encode() for i, e in enumerate(events) if i not in (5, 2100)} <= ids


def test_hmac_signed_requests(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-HMAC", "--hmac")
    assert bank.hmac_secret is not None
    with Client(pipeline.ingest.url, bank.key, bank.hmac_secret) as client:
        assert client.submit(fresh()).status == "accepted"
        assert client.submit_batch([fresh(), fresh()]).accepted == 2
    with Client(pipeline.ingest.url, bank.key, "0" * 64) as client, pytest.raises(Unauthorized) as wrong:
        client.submit(fresh())
    assert "X-Signature" in wrong.value.problem.detail
    with Client(pipeline.ingest.url, bank.key) as client, pytest.raises(Unauthorized):
        client.submit(fresh())


def test_rate_limited_chunks_are_retried_after_retry_after(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-RATE", "--rate-limit", "20", "--burst", "40")
    events = [fresh() for _ in range(160)]
    before = requests_count(pipeline, "/v1/events/batch", "429")
    with Client(pipeline.ingest.url, bank.key, max_batch_events=40, retry=RetryPolicy(max_elapsed_s=120)) as client:
        result = client.submit_batch(events)
    assert (result.accepted, result.rejected) == (160, 0)
    # 160 events at 20/s with a burst of 40 cannot pass without waiting: the client was
    # refused and came back, and every retry carried the same event ids.
    assert requests_count(pipeline, "/v1/events/batch", "429") - before >= 1
    topic = [v for _, v in read_topic(pipeline.env) if any(e["event_id"].encode() in v for e in events[:3])]
    assert len(topic) == 3


def test_iso20022_message_and_its_resubmission(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-ISO", "--bic", "CQRCCNBJXXX")
    xml = (SAMPLES / "pacs008_three_transfers.xml").read_bytes()
    with Client(pipeline.ingest.url, bank.key) as client:
        first = client.submit_iso20022(xml, category="cross_border_rmb")
        again = client.submit_iso20022(xml.decode(), category="cross_border_rmb")
    assert first.message_type == "pacs.008.001.08"
    assert (first.accepted, first.rejected) == (3, 0)
    assert all(r.source and r.source.startswith("/Document/") for r in first.results)
    assert (again.accepted, again.duplicates) == (0, 3)


def test_status_of_a_submitted_event(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-STATUS")
    body = fresh(value_date="2020-06-30")
    with Client(pipeline.ingest.url, bank.key, api_url=pipeline.api_url) as client:
        client.submit(body)
        deadline = time.monotonic() + 60
        status = client.status(body["event_id"])
        while status.status != "counted" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = client.status(body["event_id"])
        assert (status.bank_id, status.event_id, status.status) == ("CL-STATUS", body["event_id"], "counted")
        assert status.document["ledger"]["amount"] == "1250.50"
        assert client.status("never-sent").status == "unknown"


def test_a_correction_with_a_reason_and_its_chain(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-CORRECT")
    original = fresh(value_date="2020-06-30")
    replacement = fresh(value_date="2020-06-30", amount="1300.00")
    with Client(pipeline.ingest.url, bank.key, api_url=pipeline.api_url) as client:
        client.submit(original)
        deadline = time.monotonic() + 60
        while client.status(original["event_id"]).status != "counted":
            assert time.monotonic() < deadline, "original not counted in 60 s"
            time.sleep(0.5)
        with pytest.raises(InvalidRequest) as refused:
            client.correct(original["event_id"], replacement, "OTHER")  # OTHER needs a text
        assert [e.pointer for e in refused.value.problem.errors] == ["#/reason_text"]
        sent = client.correct(original["event_id"], replacement, "WRONG_AMOUNT")
        assert (sent.event_id, sent.status) == (replacement["event_id"], "accepted")
        status = client.status(original["event_id"])
        while status.status != "corrected":
            assert time.monotonic() < deadline, f"not corrected in 60 s: {status.document}"
            time.sleep(0.5)
            status = client.status(original["event_id"])
        assert status.corrected_by == replacement["event_id"]
        correction = client.status(replacement["event_id"])
        assert (correction.status, correction.corrects) == ("counted", original["event_id"])
        assert correction.document["ledger"]["reason_code"] == "WRONG_AMOUNT"
