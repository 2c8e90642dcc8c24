"""`Client.declare_control_totals` and `Client.control_totals` against the real ingest,
aggregator and API processes: the figures compared are those of the events this test
submitted (summed here), the late event closes the break, retries are idempotent."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from settlement_client import Client, Forbidden, InvalidRequest, NotFound
from tests.client.conftest import Pipeline
from tests.support.intake import event

pytestmark = pytest.mark.integration


def wait_counted(client: Client, event_ids: list[str]) -> None:
    deadline = time.monotonic() + 90
    pending = set(event_ids)
    while pending and time.monotonic() < deadline:
        pending = {e for e in pending if client.status(e).status != "counted"}
        time.sleep(0.3)
    assert not pending, f"not counted: {pending}"


def test_declare_compare_and_close_with_the_client(pipeline: Pipeline) -> None:
    bank = pipeline.bank("CL-CTL")
    amounts = ["1250.50", "99.99", "0.01"]
    events = [
        event(event_id=f"ctl-{uuid.uuid4().hex[:10]}", amount=a, value_date="2020-03-1" + str(i))
        for i, a in enumerate(amounts)
    ]
    late = event(event_id=f"ctl-late-{uuid.uuid4().hex[:8]}", amount="7.77", value_date="2020-03-31")
    # The bank's books: every event, the late one included (all cross-border RMB in CNY).
    books: dict[str, Any] = {
        "target": "cross_border_rmb",
        "currency": "CNY",
        "count": len(events) + 1,
        "amount": str(sum((Decimal(e["amount"]) for e in [*events, late]), Decimal(0))),
    }
    with Client(pipeline.ingest.url, bank.key, api_url=pipeline.api_url) as client:
        for e in events:
            client.submit(e)
        wait_counted(client, [e["event_id"] for e in events])
        with pytest.raises(NotFound):
            client.control_totals("2020-03")

        first = client.declare_control_totals("2020-03", [books])
        assert (first.bank_id, first.period, first.version, first.stored) == ("CL-CTL", "2020-03", 1, True)
        [line] = first.unbalanced
        assert (line["count_difference"], line["amount_difference"]) == (1, "7.77")
        assert len(first.open_breaks) == 1
        again = client.declare_control_totals("2020-03", [books])  # a retry
        assert (again.version, again.stored) == (1, False)

        client.submit(late)
        wait_counted(client, [late["event_id"]])
        now = client.control_totals("2020-03")
        assert now.balanced
        assert now.open_breaks == ()
        assert [b["status"] for b in now.document["breaks"]] == ["closed"]

        with pytest.raises(InvalidRequest) as invalid:
            client.declare_control_totals("2020-03", [{**books, "currency": "XAU"}, {**books, "count": -1}])
        assert {e.pointer for e in invalid.value.problem.errors} == {"#/lines/0/currency", "#/lines/1/count"}
    operator = pipeline.operator_key("ctl-client-ops")
    with Client(pipeline.ingest.url, operator, api_url=pipeline.api_url) as as_operator:
        with pytest.raises(Forbidden):
            as_operator.declare_control_totals("2020-03", [])
        assert as_operator.control_totals("2020-03", bank_id="CL-CTL").balanced
