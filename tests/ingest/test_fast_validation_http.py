"""The fast path over HTTP against the intake app with the real Kafka, Redis and
PostgreSQL: an event that takes it and the same event sent so that it cannot (a UTF-8 byte
order mark, which json.loads reads and msgspec refuses) are one event to idempotency and
the same bytes on the topic; a batch of common-shaped items with bad ones among them keeps
the strict path's per-item answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from uuid import UUID

import httpx
import pytest

from settlement_core.categories import Direction
from settlement_core.events import SettlementEvent, decode, encode
from settlement_ingest.fast_validation import read_batch, read_event
from tests.plan_catalogue import KNOWN
from tests.support.intake import Bank, IngestService, event, read_topic

pytestmark = pytest.mark.integration

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def bank(ingest: IngestService) -> Bank:
    return ingest.add_bank("FASTBANK")


@pytest.fixture
def client(ingest: IngestService) -> Iterator[httpx.Client]:
    with ingest.client() as c:
        yield c


def post(client: httpx.Client, bank: Bank, raw: bytes, path: str = "/v1/events") -> httpx.Response:
    return client.post(path, content=raw, headers={**bank.auth, "Content-Type": "application/json"})


def topic_messages(env: dict[str, str], event_id: str) -> list[bytes]:
    return [v for k, v in read_topic(env) if k == b"FASTBANK" and json.loads(v)["event_id"] == event_id]


@pytest.mark.parametrize("fast_first", [True, False])
def test_fast_and_strict_paths_are_one_event(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str], fast_first: bool
) -> None:
    event_id = f"FAST-{fast_first}"
    body = json.dumps(
        event(event_id=event_id, amount="100.5", uetr="EB6305C9-1F7F-49DE-AED0-16487C27B42D", reverses="EV-0")
    ).encode()
    fast, strict = body, BOM + body
    assert read_event(fast) is not None
    assert read_event(strict) is None  # the route validates this one with validate_event
    first, second = (fast, strict) if fast_first else (strict, fast)
    accepted = post(client, bank, first)
    assert accepted.status_code == 202, accepted.text
    assert accepted.content == json.dumps({"event_id": event_id, "status": "accepted"}, separators=(",", ":")).encode()
    repeat = post(client, bank, second)
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() == {"event_id": event_id, "status": "duplicate", "duplicate": True}
    # The other path with another amount: the same id with a different body.
    changed = json.dumps(event(event_id=event_id, amount="100.51")).encode()
    assert post(client, bank, changed if fast_first else BOM + changed).status_code == 409
    # On the topic: one record, the canonical encoding of the event the bank sent.
    [payload] = topic_messages(isolated_env, event_id)
    envelope = decode(payload, KNOWN)
    assert envelope.event == SettlementEvent(
        bank_id="FASTBANK",
        event_id=event_id,
        categories=("cross_border_rmb",),
        amount=Decimal("100.50"),
        currency="CNY",
        value_date=date(2026, 11, 2),
        direction=Direction.OUTBOUND,
        counterparty_country="SG",
        reverses="EV-0",
        uetr=UUID("eb6305c9-1f7f-49de-aed0-16487c27b42d"),
    )
    assert encode(envelope) == payload
    assert json.loads(payload)["amount"] == "100.50"


def test_batch_of_common_items_keeps_the_per_item_answers(
    client: httpx.Client, bank: Bank, isolated_env: dict[str, str]
) -> None:
    """Every item has the common shape (read by the fast path); the bad ones get the strict
    validator's problems at their pointers, repeats and conflicts as always."""
    assert post(client, bank, json.dumps(event(event_id="FB-PRE")).encode()).status_code == 202
    items = [
        event(event_id="FB-1"),
        event(event_id="FB-2", amount="0", currency="XXX", counterparty_country="hk"),
        event(event_id="FB-PRE"),
        event(event_id="FB-1"),
        event(event_id="FB-PRE", amount="3.00"),
        event(event_id="FB-3", category=..., categories=["offshore", "offshore"]),
        event(event_id="FB-4", category="offshore", currency="CNY"),  # refused by a catalogue rule
        event(event_id="FB-5", currency="JPY", amount="7000"),
    ]
    raw = json.dumps({"events": items}).encode()
    assert read_batch(raw) is not None
    response = post(client, bank, raw, "/v1/events/batch")
    assert response.status_code == 200, response.text
    result = response.json()
    statuses = [(r["index"], r["event_id"], r["status"]) for r in result["results"]]
    assert statuses == [
        (0, "FB-1", "accepted"),
        (1, "FB-2", "rejected"),
        (2, "FB-PRE", "duplicate"),
        (3, "FB-1", "duplicate"),
        (4, "FB-PRE", "rejected"),
        (5, "FB-3", "rejected"),
        (6, "FB-4", "rejected"),
        (7, "FB-5", "accepted"),
    ]
    errors = {
        r["index"]: [e["pointer"] for e in r["problem"].get("errors", [])] for r in result["results"] if "problem" in r
    }
    assert errors == {
        1: ["#/events/1/currency", "#/events/1/amount", "#/events/1/counterparty_country"],
        4: [],
        5: ["#/events/5/categories/1"],
        6: ["#/events/6/currency"],
    }
    assert result["results"][4]["problem"]["status"] == 409
    ids = [json.loads(v)["event_id"] for k, v in read_topic(isolated_env) if k == b"FASTBANK"]
    assert [ids.count(i) for i in ("FB-1", "FB-2", "FB-PRE", "FB-3", "FB-4", "FB-5")] == [1, 0, 1, 0, 0, 1]
