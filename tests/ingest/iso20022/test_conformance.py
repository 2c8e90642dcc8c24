"""Conformance on the public corpus (../shared/iso20022-samples/): every file, posted
unchanged with ?category=, is counted exactly as the message says or refused for the
reason stated in conformance.py, against the real stack (ingest, Kafka, aggregator,
PostgreSQL, Redis, API); and the pacs.002 answers validate against the official XSD."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from settlement_ingest.iso20022 import Classification, IsoDocumentError, Reader
from settlement_ingest.iso20022.status_report import ALL_CODES
from settlement_ingest.validation import COUNTRY_CODES
from tests.client.conftest import Pipeline
from tests.ingest.conftest import Bank
from tests.ingest.iso20022.conformance import SAMPLES, Sample
from tests.ingest.iso20022.pacs002 import parse_report, status_reason_codes
from tests.support.shared import SAMPLES_DIR

pytest_plugins = ["tests.client.conftest"]

ROOT = Path(__file__).resolve().parents[3]
CATEGORY = "factor_market"  # no derivation rule reads it: the totals are the messages' own
FILES = sorted(p.name for p in SAMPLES_DIR.glob("*.xml"))


def test_every_file_of_the_corpus_has_a_stated_outcome() -> None:
    assert FILES, f"no samples in {SAMPLES_DIR}"
    assert set(FILES) == set(SAMPLES)


@pytest.mark.parametrize("name", FILES)
def test_the_reader_reads_each_sample_as_stated(name: str) -> None:
    """Pure: the reader's transactions (before the intake's checks) against the table."""
    expected = SAMPLES[name]
    reader = Reader.from_seeds(ROOT / "seeds", COUNTRY_CODES)
    raw = (SAMPLES_DIR / name).read_bytes()
    if expected.refused is not None:
        with pytest.raises(IsoDocumentError) as caught:
            reader.read(raw, Classification((CATEGORY,), "CN"), None)
        assert caught.value.reason.replace("_", "-") == expected.refused
        return
    message = reader.read(raw, Classification((CATEGORY,), "CN"), None)
    read = [(t.event_id, t.fields().get("counterparty_country")) for t in message.items]
    assert read == [(c.event_id, c.country) for c in expected.counted] + [
        (r.event_id, read_country) for r, (_, read_country) in zip(expected.rejected, read, strict=False)
    ]


def test_every_reason_code_the_service_uses_is_in_isos_list() -> None:
    assert ALL_CODES <= status_reason_codes()


def _post(client: httpx.Client, bank: Bank, name: str, xml: bool = False) -> httpx.Response:
    headers = {**bank.auth, "Content-Type": "application/xml"}
    if xml:
        headers["Accept"] = "application/xml"
    return client.post(
        "/v1/iso20022", params={"category": CATEGORY}, content=(SAMPLES_DIR / name).read_bytes(), headers=headers
    )


def _ledger(api: httpx.Client, bank: Bank, event_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = api.get(f"/v1/events/{event_id}", headers=bank.auth)
        body = response.json()
        if response.status_code == 200 and body["status"] == "counted":
            return body
        time.sleep(0.5)
    pytest.fail(f"{event_id} not counted: {body}")


def _check_sample(pipeline: Pipeline, client: httpx.Client, api: httpx.Client, name: str, expected: Sample) -> None:
    bank = pipeline.bank("iso-" + name.split(".")[0][:24].replace("_", "-") + "-" + str(len(pipeline.ingest.banks)))
    response = _post(client, bank, name)
    if expected.refused is not None:
        assert response.status_code == 400, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/" + expected.refused), name
        return
    assert response.status_code == 200, (name, response.text)
    results = response.json()["results"]
    statuses = [(r["event_id"], r["status"]) for r in results]
    assert statuses == [(c.event_id, "accepted") for c in expected.counted] + [
        (r.event_id, "rejected") for r in expected.rejected
    ], name
    for rejected, result in zip(expected.rejected, results[len(expected.counted) :], strict=True):
        assert [e["pointer"] for e in result["problem"]["errors"]] == [rejected.pointer], (name, result)

    # The same message again, answered in ISO 20022: counted ones are duplicates, the rest
    # rejected with the ISO reason code and the pointer; the answer is schema-valid.
    again = _post(client, bank, name, xml=True)
    assert again.status_code == 200, again.text
    assert again.headers["content-type"].startswith("application/xml")
    report = parse_report(again.content)
    assert report.original_type.startswith(name.split("_")[1][:4]) or report.original_type[:4] in ("pacs", "camt")
    assert [(t.status, t.reasons) for t in report.transactions] == [("ACTC", ("DUPL",))] * len(expected.counted) + [
        ("RJCT", (r.reason_code,)) for r in expected.rejected
    ], name
    for rejected, tx in zip(expected.rejected, report.transactions[len(expected.counted) :], strict=True):
        assert any(line.startswith(rejected.pointer) for line in tx.info), tx
    assert report.group_status == ("ACTC" if not expected.rejected else "RJCT" if not expected.counted else "PART")

    sums: dict[str, Decimal] = {}
    for tx in expected.counted:
        ledger = _ledger(api, bank, tx.event_id)["ledger"]
        assert (
            Decimal(ledger["amount"]),
            ledger["currency"],
            ledger["value_date"],
            ledger["direction"],
            ledger["counterparty_country"],
            ledger["categories"],
        ) == (tx.amount, tx.currency, tx.value_date, tx.direction, tx.country, [CATEGORY]), (name, ledger)
        sums[tx.currency] = sums.get(tx.currency, Decimal(0)) + tx.amount
    totals = api.get(
        "/v1/totals",
        params={"category": CATEGORY, "granularity": "year", "from": "2015-01-01", "to": "2026-12-31"},
        headers=bank.auth,
    )
    assert totals.status_code == 200, totals.text
    by_currency = totals.json()["total"]["by_currency"]
    assert {c: Decimal(v) for c, v in by_currency.items() if Decimal(v)} == sums, (name, by_currency)


@pytest.mark.integration
def test_every_sample_against_the_real_stack(pipeline: Pipeline) -> None:
    with (
        httpx.Client(base_url=pipeline.ingest.url, timeout=30) as client,
        httpx.Client(base_url=pipeline.api_url, timeout=30) as api,
    ):
        for name in FILES:
            _check_sample(pipeline, client, api, name, SAMPLES[name])
