"""The intake contract over HTTP against the intake app (in this process: tests/support/asgi.py)
with the real Kafka, Redis and PostgreSQL: auth, every validation rule's status and pointer,
limits, idempotency, batches, ISO 20022 and the operational endpoints."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from settlement_core.request_signing import RequestParts, sign_v2
from tests.support.ctl import settlementctl_ok
from tests.support.intake import SAMPLES, Bank, IngestService, event, read_topic

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
BIC = "CQRCCNBJXXX"


@pytest.fixture(scope="module")
def bank(ingest: IngestService) -> Bank:
    return ingest.add_bank("CQRCB", "--bic", BIC)


@pytest.fixture
def client(ingest: IngestService) -> Iterator[httpx.Client]:
    with ingest.client() as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert {"type", "title", "status", "detail"} <= set(problem)
    return problem


def shanghai_today() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai"))


# ---------------------------------------------------------------- auth


def test_missing_key_is_401(client: httpx.Client) -> None:
    response = client.post("/v1/events", json=event())
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer stk_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer"])
def test_unknown_or_malformed_key_is_401(client: httpx.Client, header: str) -> None:
    assert_problem(client.post("/v1/events", json=event(), headers={"Authorization": header}), 401)


def test_revoked_key_is_401_at_once_and_rotation_issues_a_working_key(
    ingest: IngestService, client: httpx.Client
) -> None:
    victim = ingest.add_bank("REVOKE1")
    # The first request caches the principal in Redis; revocation must still bite at once.
    assert client.post("/v1/events", json=event(), headers=victim.auth).status_code == 202
    settlementctl_ok(ingest.env, "key", "revoke", "REVOKE1")
    assert_problem(client.post("/v1/events", json=event(), headers=victim.auth), 401)
    out = settlementctl_ok(ingest.env, "key", "rotate", "REVOKE1")
    new_key = out.strip().splitlines()[-1].split(": ", 1)[1]
    assert client.post("/v1/events", json=event(), headers={"Authorization": f"Bearer {new_key}"}).status_code == 202
    assert_problem(client.post("/v1/events", json=event(), headers=victim.auth), 401)


def test_body_claiming_another_bank_is_422(client: httpx.Client, bank: Bank, ingest: IngestService) -> None:
    ingest.add_bank("OTHERBANK")
    problem = assert_problem(client.post("/v1/events", json=event(bank_id="OTHERBANK"), headers=bank.auth), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/bank_id"]


def test_operator_key_cannot_post(ingest: IngestService, client: httpx.Client) -> None:
    out = settlementctl_ok(ingest.env, "operator", "add", "auditor")
    key = out.strip().splitlines()[-1].split(": ", 1)[1]
    headers = {"Authorization": f"Bearer {key}"}
    assert_problem(client.post("/v1/events", json=event(), headers=headers), 403)
    assert_problem(client.post("/v1/events/batch", json={"events": [event()]}, headers=headers), 403)


EVENTS_POST = RequestParts("POST", "/v1/events", "")


def sign(secret: str, timestamp: int, raw: bytes) -> str:
    """An HMAC v2 signature of a POST /v1/events (settlement_core.request_signing)."""
    return sign_v2(secret, EVENTS_POST, timestamp, raw)


@pytest.fixture(scope="module")
def signer(ingest: IngestService) -> Bank:
    """A bank with an HMAC secret (a class-scoped fixture written as a method is deprecated)."""
    return ingest.add_bank("SIGNED", "--hmac")


class TestHmac:
    def post(self, client: httpx.Client, bank: Bank, raw: bytes, signature: str | None) -> httpx.Response:
        headers = {**bank.auth, "Content-Type": "application/json"}
        if signature is not None:
            headers["X-Signature"] = signature
        return client.post("/v1/events", content=raw, headers=headers)

    def test_valid_signature_is_accepted(self, client: httpx.Client, signer: Bank) -> None:
        assert signer.hmac_secret
        raw = json.dumps(event()).encode()
        response = self.post(client, signer, raw, sign(signer.hmac_secret, int(time.time()), raw))
        assert response.status_code == 202, response.text

    def test_missing_signature_is_401(self, client: httpx.Client, signer: Bank) -> None:
        assert_problem(self.post(client, signer, json.dumps(event()).encode(), None), 401)

    def test_wrong_secret_is_401(self, client: httpx.Client, signer: Bank) -> None:
        raw = json.dumps(event()).encode()
        assert_problem(self.post(client, signer, raw, sign("0" * 64, int(time.time()), raw)), 401)

    def test_tampered_body_is_401(self, client: httpx.Client, signer: Bank) -> None:
        assert signer.hmac_secret
        raw = json.dumps(event(amount="10.00")).encode()
        signature = sign(signer.hmac_secret, int(time.time()), raw)
        assert_problem(self.post(client, signer, raw.replace(b"10.00", b"99.00"), signature), 401)

    def test_expired_signature_is_401(self, client: httpx.Client, signer: Bank) -> None:
        assert signer.hmac_secret
        raw = json.dumps(event()).encode()
        old = int(time.time()) - 301
        problem = assert_problem(self.post(client, signer, raw, sign(signer.hmac_secret, old, raw)), 401)
        assert "window" in problem["detail"]


# ---------------------------------------------------------------- validation


def _tomorrow_plus(days: int) -> str:
    return (shanghai_today().date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"event_id": ""}, "#/event_id"),
        ({"event_id": "e" * 426}, "#/event_id"),
        ({"event_id": "bad id/1"}, "#/event_id"),
        ({"event_id": ...}, "#/event_id"),
        ({"category": "retail_payments"}, "#/category"),
        ({"amount": 1250.5}, "#/amount"),
        ({"amount": 1250}, "#/amount"),
        ({"amount": "0"}, "#/amount"),
        ({"amount": "-10.00"}, "#/amount"),
        ({"amount": "10.001"}, "#/amount"),
        ({"amount": "10.5", "currency": "JPY"}, "#/amount"),
        ({"amount": "1000000000000000.01"}, "#/amount"),
        ({"amount": "1.5e3"}, "#/amount"),
        ({"currency": "AUD"}, "#/currency"),
        ({"currency": "cny"}, "#/currency"),
        ({"value_date": "2009-12-31"}, "#/value_date"),
        ({"value_date": "2026-13-01"}, "#/value_date"),
        ({"value_date": "02/11/2026"}, "#/value_date"),
        ({"direction": "both"}, "#/direction"),
        ({"counterparty_country": "XX"}, "#/counterparty_country"),
        ({"counterparty_country": "sg"}, "#/counterparty_country"),
        ({"reverses": "no spaces allowed"}, "#/reverses"),
        ({"uetr": "1234"}, "#/uetr"),
        ({"memo": "extra"}, "#/memo"),
        ({"bank_id": "CQRCB"}, "#/bank_id"),
    ],
)
def test_each_validation_rule_is_422_with_its_pointer(
    client: httpx.Client, bank: Bank, overrides: dict[str, Any], pointer: str
) -> None:
    problem = assert_problem(client.post("/v1/events", json=event(**overrides), headers=bank.auth), 422)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert all(e["message"] for e in problem["errors"])


def test_amount_number_message_says_send_a_string(client: httpx.Client, bank: Bank) -> None:
    problem = assert_problem(client.post("/v1/events", json=event(amount=99.99), headers=bank.auth), 422)
    assert "string" in problem["errors"][0]["message"]


def test_value_date_window_follows_shanghai_today(client: httpx.Client, bank: Bank) -> None:
    accepted = client.post("/v1/events", json=event(value_date=_tomorrow_plus(1)), headers=bank.auth)
    assert accepted.status_code == 202, accepted.text
    problem = assert_problem(
        client.post("/v1/events", json=event(value_date=_tomorrow_plus(2)), headers=bank.auth), 422
    )
    assert problem["errors"][0]["pointer"] == "#/value_date"


def test_every_configured_currency_and_earliest_date_are_accepted(client: httpx.Client, bank: Bank) -> None:
    for currency in ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"):
        response = client.post(
            "/v1/events", json=event(currency=currency, amount="10", value_date="2010-01-01"), headers=bank.auth
        )
        assert response.status_code == 202, (currency, response.text)


def test_malformed_json_is_400(client: httpx.Client, bank: Bank) -> None:
    response = client.post(
        "/v1/events", content=b'{"event_id": "x",', headers={**bank.auth, "Content-Type": "application/json"}
    )
    assert_problem(response, 400)


def test_non_object_body_is_422_at_the_root(client: httpx.Client, bank: Bank) -> None:
    problem = assert_problem(client.post("/v1/events", json=[event()], headers=bank.auth), 422)
    assert problem["errors"][0]["pointer"] == "#"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_wrong_content_type_is_415(client: httpx.Client, bank: Bank, content_type: str | None) -> None:
    headers = dict(bank.auth)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/v1/events", content=json.dumps(event()).encode(), headers=headers)
    assert_problem(response, 415)


def test_oversized_body_is_413_by_content_length(client: httpx.Client, bank: Bank) -> None:
    raw = json.dumps({"events": [event(event_id=f"big-{i}", memo="x" * 2000) for i in range(600)]}).encode()
    assert len(raw) > 1024 * 1024
    response = client.post("/v1/events/batch", content=raw, headers={**bank.auth, "Content-Type": "application/json"})
    assert_problem(response, 413)


def test_oversized_chunked_body_is_413_by_streamed_size(client: httpx.Client, bank: Bank) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ['
        for _ in range(300):
            yield b'"' + b"x" * 4096 + b'",'
        yield b'"x"]}'

    response = client.post(
        "/v1/events/batch", content=chunks(), headers={**bank.auth, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


# ---------------------------------------------------------------- idempotency


def test_repeat_is_200_duplicate_and_never_produced_twice(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str]
) -> None:
    body = event(event_id="IDEM-REPEAT-1", amount="100.5")
    first = client.post("/v1/events", json=body, headers=bank.auth)
    assert first.status_code == 202
    assert first.json() == {"event_id": "IDEM-REPEAT-1", "status": "accepted"}
    # Same canonical body (100.5 == 100.50 in CNY), key order and spacing do not matter.
    again = client.post(
        "/v1/events", json={**dict(reversed(list(body.items()))), "amount": "100.50"}, headers=bank.auth
    )
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["event_id"] == "IDEM-REPEAT-1"
    messages = [json.loads(v) for _, v in read_topic(isolated_env)]
    assert sum(m["event_id"] == "IDEM-REPEAT-1" for m in messages) == 1


def test_same_id_different_body_is_409(client: httpx.Client, bank: Bank) -> None:
    body = event(event_id="IDEM-CONFLICT-1")
    assert client.post("/v1/events", json=body, headers=bank.auth).status_code == 202
    problem = assert_problem(client.post("/v1/events", json={**body, "amount": "1.00"}, headers=bank.auth), 409)
    assert "IDEM-CONFLICT-1" in problem["detail"]


def test_event_ids_are_per_bank(client: httpx.Client, bank: Bank, ingest: IngestService) -> None:
    other = ingest.add_bank("SECONDBANK")
    body = event(event_id="SHARED-ID-1")
    assert client.post("/v1/events", json=body, headers=bank.auth).status_code == 202
    assert client.post("/v1/events", json={**body, "amount": "7.00"}, headers=other.auth).status_code == 202


def test_envelope_on_topic_carries_bank_from_key_and_key_is_bank(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str]
) -> None:
    body = event(event_id="ENVELOPE-1", uetr="eb6305c9-1f7f-49de-aed0-16487c27b42d")
    assert client.post("/v1/events", json=body, headers=bank.auth).status_code == 202
    [(key, value)] = [(k, v) for k, v in read_topic(isolated_env) if json.loads(v)["event_id"] == "ENVELOPE-1"]
    message = json.loads(value)
    assert key == b"CQRCB"
    assert message["bank_id"] == "CQRCB"
    assert message["amount"] == "1250.50"
    assert message["uetr"] == "eb6305c9-1f7f-49de-aed0-16487c27b42d"
    assert message["v"] == 1
    assert datetime.fromisoformat(message["received_at"]).tzinfo is not None


# ---------------------------------------------------------------- batch


def test_batch_answers_per_item_and_accepts_valid_items(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str]
) -> None:
    assert client.post("/v1/events", json=event(event_id="B-PRE"), headers=bank.auth).status_code == 202
    pre = event(event_id="B-PRE")
    items = [
        event(event_id="B-1"),
        event(event_id="B-2", amount=5),
        pre,
        event(event_id="B-1"),
        {**pre, "amount": "3.00"},
        event(event_id="B-3", currency="JPY", amount="7000"),
    ]
    # B-1 twice with the same body: the second copy is a duplicate; B-PRE with a new body:
    # conflict.
    items[3] = dict(items[0])
    response = client.post("/v1/events/batch", json={"events": items}, headers=bank.auth)
    assert response.status_code == 200, response.text
    result = response.json()
    statuses = [(r["index"], r["event_id"], r["status"]) for r in result["results"]]
    assert statuses == [
        (0, "B-1", "accepted"),
        (1, "B-2", "rejected"),
        (2, "B-PRE", "duplicate"),
        (3, "B-1", "duplicate"),
        (4, "B-PRE", "rejected"),
        (5, "B-3", "accepted"),
    ]
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (2, 2, 2)
    invalid = result["results"][1]["problem"]
    assert invalid["status"] == 422
    assert [e["pointer"] for e in invalid["errors"]] == ["#/events/1/amount"]
    assert result["results"][4]["problem"]["status"] == 409
    assert result["results"][2]["duplicate"] is True
    ids = [json.loads(v)["event_id"] for _, v in read_topic(isolated_env)]
    assert ids.count("B-1") == 1
    assert ids.count("B-3") == 1
    assert ids.count("B-2") == 0
    assert ids.count("B-PRE") == 1


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"events": []}, "#/events"),
        ({"events": {}}, "#/events"),
        ({}, "#/events"),
        ({"events": [{"event_id": "x"}], "bank_id": "CQRCB"}, "#/bank_id"),
    ],
)
def test_batch_shape_errors_are_422(client: httpx.Client, bank: Bank, body: dict[str, Any], pointer: str) -> None:
    problem = assert_problem(client.post("/v1/events/batch", json=body, headers=bank.auth), 422)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]


def test_batch_of_1001_events_is_422_and_1000_is_accepted(client: httpx.Client, ingest: IngestService) -> None:
    big = ingest.add_bank("BIGBATCH")
    too_many = [event(event_id=f"bb-{i}", amount="1") for i in range(1001)]
    problem = assert_problem(client.post("/v1/events/batch", json={"events": too_many}, headers=big.auth), 422)
    assert problem["errors"][0]["pointer"] == "#/events"
    response = client.post("/v1/events/batch", json={"events": too_many[:1000]}, headers=big.auth)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1000


# ---------------------------------------------------------------- rate limit


def test_rate_limit_is_429_with_retry_after(client: httpx.Client, ingest: IngestService) -> None:
    slow = ingest.add_bank("SLOWBANK", "--rate-limit", "1", "--burst", "3")
    codes = [client.post("/v1/events", json=event(), headers=slow.auth).status_code for _ in range(3)]
    assert codes == [202, 202, 202]
    response = client.post("/v1/events", json=event(), headers=slow.auth)
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    # A batch costs one token per event: 2 events cannot pass while the bucket has ~0.
    batch = client.post("/v1/events/batch", json={"events": [event(), event()]}, headers=slow.auth)
    assert_problem(batch, 429)
    time.sleep(1.2)
    assert client.post("/v1/events", json=event(), headers=slow.auth).status_code == 202


# ---------------------------------------------------------------- ISO 20022


def post_xml(
    client: httpx.Client,
    bank: Bank,
    name: str,
    category: str | list[str] | None = "cross_border_rmb",
    content_type: str = "application/xml",
) -> httpx.Response:
    return client.post(
        "/v1/iso20022",
        params={} if category is None else {"category": category},
        content=(SAMPLES / name).read_bytes(),
        headers={**bank.auth, "Content-Type": content_type},
    )


def test_pacs008_each_transfer_is_an_event(client: httpx.Client, bank: Bank, isolated_env: dict[str, str]) -> None:
    response = post_xml(client, bank, "pacs008_three_transfers.xml", "mnc_headquarters")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["message_type"] == "pacs.008.001.08"
    assert [(r["event_id"], r["status"]) for r in result["results"]] == [
        ("8a562c67-ca16-48ba-b074-65581be6f011", "accepted"),
        ("E2E-0002", "accepted"),
        ("TX-0003", "accepted"),
    ]
    assert result["results"][0]["source"] == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"
    by_id = {m["event_id"]: m for m in (json.loads(v) for _, v in read_topic(isolated_env))}
    assert by_id["E2E-0002"]["direction"] == "inbound"
    assert by_id["E2E-0002"]["counterparty_country"] == "HK"
    assert by_id["E2E-0002"]["amount"] == "250000.00"
    assert by_id["TX-0003"]["amount"] == "1200000"
    assert by_id["TX-0003"]["currency"] == "JPY"
    assert by_id["TX-0003"]["counterparty_country"] == "JP"
    assert by_id["8a562c67-ca16-48ba-b074-65581be6f011"]["category"] == "mnc_headquarters"
    # Resending the same message: every transfer is a duplicate.
    again = post_xml(client, bank, "pacs008_three_transfers.xml", "mnc_headquarters").json()
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3


def test_pacs008_bad_transfer_is_rejected_alone(client: httpx.Client, bank: Bank) -> None:
    result = post_xml(client, bank, "pacs008_one_bad_transfer.xml").json()
    assert [r["status"] for r in result["results"]] == ["accepted", "rejected"]
    problem = result["results"][1]["problem"]
    assert problem["status"] == 422
    assert [e["pointer"] for e in problem["errors"]] == ["#/amount"]


def test_camt054_booked_pending_and_reversal(client: httpx.Client, bank: Bank, isolated_env: dict[str, str]) -> None:
    response = post_xml(client, bank, "camt054_booked_pending_reversal.xml", content_type="text/xml")
    assert response.status_code == 200, response.text
    result = response.json()
    uetr = "3f2c8f0e-7a51-4d6b-9d8e-0c7b1a2e4f60"
    assert [(r["event_id"], r["status"]) for r in result["results"]] == [
        (uetr, "accepted"),
        (uetr + ":RVSL", "accepted"),
        ("E2E-C-0004", "accepted"),
    ]
    assert len(result["skipped"]) == 1
    assert result["skipped"][0]["source"].endswith("Ntry[2]")
    by_id = {m["event_id"]: m for m in (json.loads(v) for _, v in read_topic(isolated_env))}
    assert by_id[uetr + ":RVSL"]["reverses"] == uetr
    assert by_id[uetr + ":RVSL"]["amount"] == by_id[uetr]["amount"] == "800000.00"
    assert by_id["E2E-C-0004"]["counterparty_country"] == "DE"
    assert by_id["E2E-C-0004"]["direction"] == "outbound"
    assert "E2E-C-0002" not in by_id


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml", "malformed.xml", "pacs008_version_07.xml"])
def test_unsafe_or_malformed_xml_is_400(client: httpx.Client, bank: Bank, name: str) -> None:
    started = time.monotonic()
    problem = assert_problem(post_xml(client, bank, name), 400)
    assert time.monotonic() - started < 2.0
    assert "root:" not in json.dumps(problem)


def test_iso_repeated_category_and_classification(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str]
) -> None:
    both = post_xml(client, bank, "pacs009_two_transfers.xml", ["factor_market", "corporate_account"])
    assert both.status_code == 200, both.text
    assert [r["status"] for r in both.json()["results"]] == ["accepted", "accepted"]
    classified = post_xml(client, bank, "pacs008_classified.xml", None)
    assert classified.status_code == 200, classified.text
    results = classified.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 4 + ["rejected"]
    assert [e["pointer"] for e in results[4]["problem"]["errors"]] == ["#/categories"]
    by_id = {m["event_id"]: m for m in (json.loads(v) for _, v in read_topic(isolated_env))}
    assert by_id["CLS-1"]["category"] == "mnc_headquarters"
    assert by_id["CLS-2"]["categories"] == ["cross_border_ecommerce", "cross_border_rmb"]
    assert by_id["CLS-3"]["category"] == "offshore"
    assert by_id["CLS-4"]["category"] == "cross_border_rmb"
    duplicate = post_xml(client, bank, "pacs008_classified.xml", ["offshore", "offshore"])
    assert_problem(duplicate, 422)
    # Declared offshore for the whole message: the CNY transfers are refused, never converted.
    offshore = post_xml(client, bank, "pacs008_classified.xml", ["offshore"]).json()["results"]
    refused = {
        r["event_id"]: r["problem"]["errors"][0]["pointer"] for r in offshore if r["event_id"] in ("CLS-2", "CLS-4")
    }
    assert refused == {"CLS-2": "#/currency", "CLS-4": "#/currency"}


def test_iso_needs_a_valid_category(client: httpx.Client, bank: Bank) -> None:
    problem = assert_problem(post_xml(client, bank, "pacs008_three_transfers.xml", "retail"), 422)
    assert problem["errors"][0]["pointer"] == "#/query/category"


def test_iso_rejects_json_content_type(client: httpx.Client, bank: Bank) -> None:
    assert_problem(post_xml(client, bank, "pacs008_three_transfers.xml", content_type="application/json"), 415)


# ---------------------------------------------------------------- operations


def test_health_ready_and_metrics_need_no_key(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"kafka": "ok", "redis": "ok", "postgres": "ok"}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'ingest_http_requests_total{method="POST",route="/v1/events",status="202"}' in text
    assert 'ingest_events_total{outcome="accepted",reason=""}' in text
    assert "ingest_produce_latency_seconds_bucket" in text
    assert "ingest_http_request_duration_seconds_bucket" in text
    assert "ingest_kafka_up 1.0" in text


def test_unknown_route_is_problem_json_with_bounded_route_label(client: httpx.Client) -> None:
    assert_problem(client.get("/v1/nothing-here-12345"), 404)
    assert "nothing-here" not in client.get("/metrics").text


def test_openapi_documents_the_event_schema(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert "EventIn" in schema["components"]["schemas"]
    assert "/v1/iso20022" in schema["paths"]


def test_batch_item_that_is_not_an_object_rejects_the_request(client: httpx.Client, bank: Bank) -> None:
    good = event()
    response = client.post("/v1/events/batch", json={"events": [good, [None, None], 7]}, headers=bank.auth)
    problem = assert_problem(response, 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/events/1", "#/events/2"]
    # Nothing of the request was accepted: the good item is new on its own afterwards.
    assert client.post("/v1/events", json=good, headers=bank.auth).status_code == 202


def test_openapi_lists_problem_responses_and_public_operations(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/v1/events"]["post"]
    for status in ("400", "401", "403", "409", "413", "415", "422", "429", "503"):
        assert post["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    for path in ("/healthz", "/readyz", "/metrics"):
        assert doc["paths"][path]["get"]["security"] == []
    assert doc["security"] == [{"bearer": []}]
    iso = doc["paths"]["/v1/iso20022"]["post"]
    [category] = [p for p in iso["parameters"] if p["name"] == "category"]
    # Optional and repeatable: without it each transaction is classified from the message.
    assert category.get("required", False) is False
    assert category["schema"]["type"] == "array"
    assert category["schema"]["items"]["enum"] == sorted(
        [
            "corporate_account",
            "cross_border_ecommerce",
            "cross_border_rmb",
            "factor_market",
            "mnc_headquarters",
            "offshore",
        ]
    )
