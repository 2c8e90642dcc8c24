"""`Client.declare_control_totals`, `Client.control_totals` and `settlement-submit
--control-totals` against the real ingest, aggregator and API processes: the figures compared
are those of the events this test submitted (summed here), the late event closes the break,
retries are idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
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


SUBMIT = Path(sys.executable).with_name("settlement-submit")


def submit_cli(pipeline: Pipeline, key: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SETTLEMENT_API_KEY": key, "SETTLEMENT_API_URL": pipeline.api_url}
    return subprocess.run(
        [str(SUBMIT), str(path), "--control-totals", "--url", pipeline.ingest.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_settlement_submit_declares_control_totals(pipeline: Pipeline, tmp_path: Path) -> None:
    bank = pipeline.bank("CL-CTL-CLI")
    sent = [
        event(event_id=f"cli-{uuid.uuid4().hex[:10]}", amount=a, value_date="2020-04-08") for a in ("10.00", "0.50")
    ]
    with Client(pipeline.ingest.url, bank.key, api_url=pipeline.api_url) as client:
        for e in sent:
            client.submit(e)
        wait_counted(client, [e["event_id"] for e in sent])
    total = str(sum((Decimal(e["amount"]) for e in sent), Decimal(0)))
    books = tmp_path / "2020-04.json"
    books.write_text(
        json.dumps(
            {
                "period": "2020-04",
                "lines": [{"target": "cross_border_rmb", "currency": "CNY", "count": 2, "amount": total}],
            }
        )
    )
    done = submit_cli(pipeline, bank.key, books)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["2020-04: version 1 declared", "balanced: every line equals the counted events"]
    again = submit_cli(pipeline, bank.key, books)
    assert (again.returncode, again.stdout.splitlines()[0]) == (
        0,
        "2020-04: version 1 already declared (nothing changed)",
    )

    # May: one event declared, none sent.
    may = tmp_path / "2020-05.json"
    may.write_text(
        json.dumps(
            {"period": "2020-05", "lines": [{"target": "offshore", "currency": "USD", "count": 1, "amount": "3.00"}]}
        )
    )
    broken = submit_cli(pipeline, bank.key, may)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "break: offshore USD: declared 1 / 3.00, counted 0 / 0.00 (difference 1 events, 3.00)" in broken.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"period": "2020-06", "lines": [{"target": "retail", "currency": "CNY", "count": 1, "amount": "1"}]})
    )
    refused = submit_cli(pipeline, bank.key, bad)
    assert refused.returncode == 1
    assert "#/lines/0/target: unknown target" in refused.stderr
    assert submit_cli(pipeline, bank.key, tmp_path / "missing.json").returncode == 2
