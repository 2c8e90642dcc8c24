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

from settlement_core.catalogue import load_catalogue
from settlement_ingest.iso20022 import Classification, IsoDocumentError, Reader
from settlement_ingest.iso20022.status_report import ALL_CODES
from settlement_ingest.validation import COUNTRY_CODES
from tests.client.conftest import Pipeline
from tests.ingest.iso20022.conformance import SAMPLES, Sample
from tests.ingest.iso20022.pacs002 import parse_report, status_reason_codes
from tests.support.intake import Bank, IngestService
from tests.support.services import ServiceRunner
from tests.support.shared import SAMPLES_DIR


@pytest.fixture(scope="module")
def pipeline(ingest: IngestService, services: ServiceRunner) -> Pipeline:
    """Ingest (in this process), aggregator and API (processes) against this module's own
    database, Redis db and topics."""
    aggregate = services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api")
    return Pipeline(ingest, api.url, aggregate.url)


ROOT = Path(__file__).resolve().parents[3]
SIGNALS = load_catalogue(ROOT / "seeds" / "targets.yaml").iso_signals
CATEGORY = "factor_market"  # no derivation rule reads it: the totals are the messages' own
FILES = sorted(p.name for p in SAMPLES_DIR.glob("*.xml"))


def test_every_file_of_the_corpus_has_a_stated_outcome() -> None:
    assert FILES, f"no samples in {SAMPLES_DIR}"
    assert set(FILES) == set(SAMPLES)


@pytest.mark.parametrize("name", FILES)
def test_the_reader_reads_each_sample_as_stated(name: str) -> None:
    """Pure: the reader's transactions (before the intake's checks) against the table."""
    expected = SAMPLES[name]
    reader = Reader.from_seeds(ROOT / "seeds" / "targets.yaml", COUNTRY_CODES)
    raw = (SAMPLES_DIR / name).read_bytes()
    if expected.refused is not None:
        with pytest.raises(IsoDocumentError) as caught:
            reader.read(raw, Classification((CATEGORY,), "CN", SIGNALS), None)
        assert caught.value.reason.replace("_", "-") == expected.refused
        return
    message = reader.read(raw, Classification((CATEGORY,), "CN", SIGNALS), None)
    assert [t.event_id for t in message.items] == [c.event_id for c in expected.counted] + [
        r.event_id for r in expected.rejected
    ]
    counted = message.items[: len(expected.counted)]
    assert [
        (t.amount and Decimal(t.amount), t.currency, t.value_date, t.direction, t.fields()["counterparty_country"])
        for t in counted
    ] == [(c.amount, c.currency, c.value_date, c.direction, c.country) for c in expected.counted]


def test_every_reason_code_the_service_uses_is_in_isos_list() -> None:
    assert status_reason_codes() >= ALL_CODES


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


def _groups() -> list[list[str]]:
    """The files in as few banks as keep every event id unique within a bank (several
    samples share a UETR; registering a bank takes seconds)."""
    groups: list[tuple[set[str], list[str]]] = []
    for name in FILES:
        sample = SAMPLES[name]
        ids = {c.event_id for c in sample.counted} | {r.event_id for r in sample.rejected}
        for taken, names in groups:
            if not taken & ids:
                taken.update(ids)
                names.append(name)
                break
        else:
            groups.append((set(ids), [name]))
    return [names for _, names in groups]


def _check_sample(client: httpx.Client, api: httpx.Client, bank: Bank, name: str, expected: Sample) -> None:
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
    assert report.original_type[:8] in ("pacs.008", "pacs.009", "camt.054"), report
    assert [(t.status, t.reasons) for t in report.transactions] == [("ACTC", ("DUPL",))] * len(expected.counted) + [
        ("RJCT", (r.reason_code,)) for r in expected.rejected
    ], name
    for rejected, tx in zip(expected.rejected, report.transactions[len(expected.counted) :], strict=True):
        assert any(line.startswith(rejected.pointer) for line in tx.info), tx
    assert report.group_status == ("ACTC" if not expected.rejected else "RJCT" if not expected.counted else "PART")

    for counted in expected.counted:
        ledger = _ledger(api, bank, counted.event_id)["ledger"]
        assert (
            Decimal(ledger["amount"]),
            ledger["currency"],
            ledger["value_date"],
            ledger["direction"],
            ledger["counterparty_country"],
            ledger["categories"],
        ) == (
            counted.amount,
            counted.currency,
            counted.value_date,
            counted.direction,
            counted.country,
            [CATEGORY],
        ), (name, ledger)


def _check_totals(api: httpx.Client, bank: Bank, names: list[str]) -> None:
    sums: dict[str, Decimal] = {}
    for name in names:
        for tx in SAMPLES[name].counted:
            sums[tx.currency] = sums.get(tx.currency, Decimal(0)) + tx.amount
    totals = api.get(
        "/v1/totals",
        params={"category": CATEGORY, "granularity": "year", "from": "2015-01-01", "to": "2026-12-31"},
        headers=bank.auth,
    )
    assert totals.status_code == 200, totals.text
    by_currency = totals.json()["total"]["by_currency"]
    assert {c: Decimal(v) for c, v in by_currency.items() if Decimal(v)} == sums, (names, by_currency)


@pytest.mark.integration
def test_every_sample_against_the_real_stack(pipeline: Pipeline) -> None:
    with (
        pipeline.ingest.client(timeout=30) as client,
        httpx.Client(base_url=pipeline.api_url, timeout=30) as api,
    ):
        for n, names in enumerate(_groups()):
            bank = pipeline.bank(f"iso-corpus-{n}")
            for name in names:
                _check_sample(client, api, bank, name, SAMPLES[name])
            _check_totals(api, bank, names)
