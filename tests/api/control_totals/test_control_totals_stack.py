"""Control totals on the real stack (issue 25 step 3): events posted to a real ingest and
counted by the real aggregator into PostgreSQL, declarations and reads through a real API
process. Every expected figure comes from `Oracle`, computed here from the events this test
posted (never from the service's own comparison).

January 2020, across the Spring Festival (due date of its control totals: Friday
2020-02-14, the 10th working day of February on China's calendar): bank A declares figures
that include an event it has not sent yet; the break of one event opens, the late event
arrives and closes it; then a correction with a reason (WRONG_AMOUNT, issue 25 step 4)
changes a counted amount, a break of that amount opens and the bank's corrected declaration
(version 2) closes it. February: a declared event the ledger never gets; an operator
acknowledges the break with a note; the bank then corrects its declaration (version 2)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, update

from settlement_core.db.models import Bank
from tests.support.pipeline import bearer
from tests.support.principals import add_bank_and_operator
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

RMB, ECOM, OFFSHORE = "cross_border_rmb", "cross_border_ecommerce", "offshore"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Posted:
    event_id: str
    categories: tuple[str, ...]
    amount: str
    currency: str
    value_date: date
    country: str = "SG"
    reverses: str | None = None
    corrects: str | None = None
    reason_code: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "categories": list(self.categories),
            "amount": self.amount,
            "currency": self.currency,
            "value_date": self.value_date.isoformat(),
            "direction": "outbound",
            "counterparty_country": self.country,
        }
        if self.reverses:
            body["reverses"] = self.reverses
        if self.corrects:
            body["corrects"] = self.corrects
            body["reason_code"] = self.reason_code
        return body


@dataclass
class Oracle:
    """The bank's counted events per (target, currency) of a month, from what was posted:
    originals neither reversed nor corrected (a correction counts its own figure instead),
    value date in the month, once in each declared category."""

    posted: list[Posted] = field(default_factory=list)

    def counted(self, year: int, month: int) -> dict[tuple[str, str], tuple[int, Decimal]]:
        reversed_ids = {p.reverses or p.corrects for p in self.posted if p.reverses or p.corrects}
        out: dict[tuple[str, str], tuple[int, Decimal]] = {}
        for p in self.posted:
            if p.reverses or p.event_id in reversed_ids:
                continue
            if (p.value_date.year, p.value_date.month) != (year, month):
                continue
            for category in p.categories:
                n, total = out.get((category, p.currency), (0, Decimal(0)))
                out[(category, p.currency)] = (n + 1, total + Decimal(p.amount))
        return out


@dataclass(frozen=True, slots=True)
class Stack:
    ingest: str
    api: str
    bank_a: dict[str, str]
    bank_b: dict[str, str]
    signer: dict[str, str]
    operator: dict[str, str]
    operator_name: str


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Stack:
    url = isolated_env["DATABASE_URL"]
    key_a, operator = add_bank_and_operator(url, "ctlA", "Control Bank A", "ctl-ops")
    key_b, _ = add_bank_and_operator(url, "ctlB", "Control Bank B", "ctl-ops-2")
    key_s, _ = add_bank_and_operator(url, "ctlS", "Signing Bank", "ctl-ops-3")
    engine = create_engine(url)
    with engine.begin() as conn:
        # A bank registered with an HMAC secret: its bearer key alone must not declare.
        conn.execute(update(Bank).where(Bank.bank_id == "ctlS").values(hmac_secret_enc=b"sealed-elsewhere"))
    engine.dispose()
    ingest = services.serve("ingest", "settlement_ingest")
    services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api", {"PUBLIC_MODE": "false"})
    return Stack(ingest.url, api.url, bearer(key_a), bearer(key_b), bearer(key_s), bearer(operator), "ctl-ops")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


ORACLE = Oracle()


def post_and_count(stack: Stack, client: httpx.Client, events: Sequence[Posted]) -> None:
    """Posts each event to ingest, then waits until the aggregator has counted (or reversed)
    every one, as GET /v1/events/{id} shows from the ledger."""
    for e in events:
        response = client.post(f"{stack.ingest}/v1/events", json=e.body(), headers=stack.bank_a)
        assert response.status_code == 202, response.text
        ORACLE.posted.append(e)
    expected = {e.event_id: "counted" for e in events}
    for e in events:
        if e.reverses:
            expected[e.event_id] = "counted"  # a reversal's own status is counted once applied
            expected[e.reverses] = "reversed"
        if e.corrects:
            expected[e.corrects] = "corrected"
    deadline = time.monotonic() + 90
    pending = dict(expected)
    while pending and time.monotonic() < deadline:
        for event_id, status in list(pending.items()):
            body = client.get(f"{stack.api}/v1/events/{event_id}", headers=stack.bank_a).json()
            if body.get("status") == status:
                del pending[event_id]
        time.sleep(0.3)
    assert not pending, f"not counted in 90 s: {pending}"


def line(target: str, currency: str, counted: dict[tuple[str, str], tuple[int, Decimal]]) -> dict[str, Any]:
    n, total = counted[(target, currency)]
    return {"target": target, "currency": currency, "count": n, "amount": str(total)}


def json_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:800]
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    body = json_of(response, status)
    assert response.headers["content-type"].startswith("application/problem+json")
    return body


def pointers(body: dict[str, Any]) -> set[str]:
    return {e["pointer"] for e in body.get("errors", [])}


def expected_comparison(
    declared: list[dict[str, Any]], counted: dict[tuple[str, str], tuple[int, Decimal]]
) -> list[dict[str, Any]]:
    by_key = {(d["target"], d["currency"]): (d["count"], Decimal(d["amount"])) for d in declared}
    rows = []
    for key in sorted(set(by_key) | set(counted)):
        dn, da = by_key.get(key, (0, Decimal(0)))
        cn, ca = counted.get(key, (0, Decimal(0)))
        rows.append(
            {
                "target": key[0],
                "currency": key[1],
                "declared": {"count": dn, "amount": str(da.quantize(CENT))},
                "counted": {"count": cn, "amount": str(ca.quantize(CENT))},
                "count_difference": dn - cn,
                "amount_difference": str((da - ca).quantize(CENT)),
                "balanced": dn == cn and da == ca,
            }
        )
    return rows


# January 2020. The late event is valued on the eve of the Spring Festival (Wednesday
# 2020-01-22) and due, by the event rule (5 working days), only on Wednesday 2020-02-05.
JANUARY = [
    Posted("jan-1", (RMB,), "1000.00", "CNY", date(2020, 1, 10)),
    Posted("jan-2", (RMB,), "250.55", "CNY", date(2020, 1, 21)),
    Posted("jan-3", (ECOM, RMB), "99.99", "CNY", date(2020, 1, 23)),  # in both lines
    # E-commerce in CNY abroad: the catalogue's rule also counts it toward cross-border RMB,
    # but a control total reconciles the categories the bank declared.
    Posted("jan-4", (ECOM,), "10.00", "CNY", date(2020, 1, 8)),
    Posted("jan-5", (OFFSHORE,), "300.01", "USD", date(2020, 1, 31)),
    Posted("jan-6", (RMB,), "70.00", "CNY", date(2020, 1, 15)),
    Posted("feb-1", (RMB,), "5.00", "CNY", date(2020, 2, 3)),  # another period
]
JANUARY_REVERSAL = Posted("jan-6-r", (RMB,), "70.00", "CNY", date(2020, 1, 16), reverses="jan-6")
LATE = Posted("jan-late", (RMB,), "123.45", "CNY", date(2020, 1, 22))
# jan-2 (250.55) was really 205.50: a correction with a reason, under a new event id.
CORRECTION = Posted("jan-2-c", (RMB,), "205.50", "CNY", date(2020, 1, 21), corrects="jan-2", reason_code="WRONG_AMOUNT")


def test_a_break_of_one_event_opens_and_the_late_event_closes_it(stack: Stack, client: httpx.Client) -> None:
    post_and_count(stack, client, JANUARY)
    post_and_count(stack, client, [JANUARY_REVERSAL])
    before = ORACLE.counted(2020, 1)
    # The bank's own books already hold the late event.
    with_late = Oracle([*ORACLE.posted, LATE]).counted(2020, 1)
    lines = [line(OFFSHORE, "USD", with_late), line(RMB, "CNY", with_late), line(ECOM, "CNY", with_late)]
    assert with_late[(RMB, "CNY")][0] == before[(RMB, "CNY")][0] + 1  # one event apart

    declared = json_of(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": lines}, headers=stack.bank_a),
        201,
    )
    assert declared["bank_id"] == "ctlA"
    assert declared["declaration"]["version"] == 1
    assert declared["declaration"]["due"] == "2020-02-14"
    assert declared["declaration"]["working_days_late"] > 0  # declared today, years after
    assert declared["comparison"] == expected_comparison(lines, before)
    [broken] = [c for c in declared["comparison"] if not c["balanced"]]
    assert (broken["target"], broken["count_difference"], broken["amount_difference"]) == (RMB, 1, "123.45")
    [opened] = declared["breaks"]
    assert (opened["status"], opened["target"], opened["currency"]) == ("open", RMB, "CNY")
    assert [(t["action"], t["actor"], t["note"]) for t in opened["trail"]] == [("opened", "system", "declaration")]

    # The same lines again, in another order and scale: 200 with the stored declaration.
    again = [dict(x, amount=str(Decimal(x["amount"]).quantize(Decimal("0.01")))) for x in reversed(lines)]
    resent = json_of(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": again}, headers=stack.bank_a),
        200,
    )
    assert resent["declaration"] == declared["declaration"]
    assert [v["version"] for v in resent["versions"]] == [1]

    # The operator sees the open break among every bank's.
    listed = json_of(client.get(f"{stack.api}/v1/operator/control-totals/breaks", headers=stack.operator), 200)
    assert [(b["bank_id"], b["period"], b["id"]) for b in listed["breaks"]] == [("ctlA", "2020-01", opened["id"])]

    post_and_count(stack, client, [LATE])
    after = json_of(client.get(f"{stack.api}/v1/control-totals/2020-01", headers=stack.bank_a), 200)
    assert after["comparison"] == expected_comparison(lines, ORACLE.counted(2020, 1))
    assert all(c["balanced"] for c in after["comparison"])
    [closed] = after["breaks"]
    assert closed["id"] == opened["id"]
    assert closed["status"] == "closed"
    assert closed["resolved_at"] is not None
    assert [(t["action"], t["actor"], t["note"]) for t in closed["trail"]] == [
        ("opened", "system", "declaration"),
        ("closed", "system", "events"),
    ]
    assert closed["trail"][1]["counted"] == {"count": with_late[(RMB, "CNY")][0], "amount": lines[1]["amount"]}
    assert closed["trail"][1]["counted_through"] is not None  # when the late event was received
    assert (
        json_of(client.get(f"{stack.api}/v1/operator/control-totals/breaks", headers=stack.operator), 200)["breaks"]
        == []
    )
    # A closed break is not acknowledged.
    problem(
        client.post(
            f"{stack.api}/v1/operator/control-totals/breaks/{opened['id']}/acknowledge",
            json={"note": "late"},
            headers=stack.operator,
        ),
        409,
    )

    # A correction with a reason: jan-2 is replaced by jan-2-c (205.50 instead of 250.55).
    post_and_count(stack, client, [CORRECTION])
    corrected = json_of(client.get(f"{stack.api}/v1/events/jan-2", headers=stack.bank_a), 200)
    assert (corrected["status"], corrected["corrected_by"]["event_id"], corrected["corrected_by"]["reason_code"]) == (
        "corrected",
        "jan-2-c",
        "WRONG_AMOUNT",
    )
    assert json_of(client.get(f"{stack.api}/v1/events/jan-2-c", headers=stack.bank_a), 200)["ledger"]["corrects"] == (
        "jan-2"
    )
    corrected_books = ORACLE.counted(2020, 1)
    # Same count, 45.05 less: the oracle's own arithmetic on what was posted.
    assert corrected_books[(RMB, "CNY")] == (
        with_late[(RMB, "CNY")][0],
        with_late[(RMB, "CNY")][1] - Decimal("250.55") + Decimal("205.50"),
    )
    reread = json_of(client.get(f"{stack.api}/v1/control-totals/2020-01", headers=stack.bank_a), 200)
    assert reread["comparison"] == expected_comparison(lines, corrected_books)
    [moved] = [b for b in reread["breaks"] if b["status"] == "open"]
    assert (moved["target"], moved["currency"]) == (RMB, "CNY")
    assert [c for c in reread["comparison"] if not c["balanced"]] == [
        c for c in expected_comparison(lines, corrected_books) if c["target"] == RMB and c["currency"] == "CNY"
    ]
    assert [(c["count_difference"], c["amount_difference"]) for c in reread["comparison"] if not c["balanced"]] == [
        (0, "45.05")
    ]
    # The bank's corrected declaration (version 2) agrees with the ledger again: the break closes.
    fixed = [
        line(OFFSHORE, "USD", corrected_books),
        line(RMB, "CNY", corrected_books),
        line(ECOM, "CNY", corrected_books),
    ]
    redeclared = json_of(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": fixed}, headers=stack.bank_a),
        201,
    )
    assert redeclared["declaration"]["version"] == 2
    assert all(c["balanced"] for c in redeclared["comparison"])
    assert {b["id"]: b["status"] for b in redeclared["breaks"]}[moved["id"]] == "closed"
    assert (
        json_of(client.get(f"{stack.api}/v1/operator/control-totals/breaks", headers=stack.operator), 200)["breaks"]
        == []
    )


def test_an_operator_acknowledges_a_break_with_a_note_and_a_new_version_keeps_the_history(
    stack: Stack, client: httpx.Client
) -> None:
    if not any(p.event_id == "feb-1" for p in ORACLE.posted):
        post_and_count(stack, client, [p for p in JANUARY if p.event_id == "feb-1"])
    counted = ORACLE.counted(2020, 2)
    n, total = counted[(RMB, "CNY")]
    # The bank declares one event more than it ever sent.
    lines = [{"target": RMB, "currency": "CNY", "count": n + 1, "amount": str(total + Decimal("10.00"))}]
    declared = json_of(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-02", "lines": lines}, headers=stack.bank_a),
        201,
    )
    assert declared["comparison"] == expected_comparison(lines, counted)
    [broken] = declared["breaks"]
    assert (broken["count_difference"], broken["amount_difference"]) == (1, "10.00")

    note = "Bank confirmed by phone: event FX-77 was cancelled before settlement; declared in error."
    url = f"{stack.api}/v1/operator/control-totals/breaks/{broken['id']}/acknowledge"
    problem(client.post(url, json={"note": note}, headers=stack.bank_a), 403)  # a bank cannot
    problem(client.post(url, json={"note": note}), 401)
    assert pointers(problem(client.post(url, json={"note": "  "}, headers=stack.operator), 422)) == {"#/note"}
    assert pointers(problem(client.post(url, json={"note": "a\x00b"}, headers=stack.operator), 422)) == {"#/note"}
    problem(
        client.post(
            f"{stack.api}/v1/operator/control-totals/breaks/999999/acknowledge",
            json={"note": note},
            headers=stack.operator,
        ),
        404,
    )
    acknowledged = json_of(client.post(url, json={"note": note}, headers=stack.operator), 200)
    assert acknowledged["status"] == "acknowledged"
    last = acknowledged["trail"][-1]
    assert (last["action"], last["actor"], last["note"]) == ("acknowledged", f"operator:{stack.operator_name}", note)
    problem(client.post(url, json={"note": note}, headers=stack.operator), 409)  # once

    # The audit log has the action too, with who and the note.
    audit = json_of(client.get(f"{stack.api}/v1/audit", headers=stack.operator), 200)
    [entry] = [e for e in audit["entries"] if e["action"] == "control_totals.acknowledge"]
    assert entry["actor"] == f"operator:{stack.operator_name}"
    assert entry["subject"] == "ctlA/2020-02/cross_border_rmb/CNY"
    assert entry["detail"] == {"break_id": broken["id"], "note": note}

    # The bank sees the acknowledgement and its note, not which operator account made it;
    # the operator's open list no longer has it.
    seen = json_of(client.get(f"{stack.api}/v1/control-totals/2020-02", headers=stack.bank_a), 200)
    assert [(b["id"], b["status"]) for b in seen["breaks"]] == [(broken["id"], "acknowledged")]
    bank_view = seen["breaks"][0]["trail"][-1]
    assert (bank_view["action"], bank_view["actor"], bank_view["note"]) == ("acknowledged", "operator", note)
    assert stack.operator_name not in json.dumps(seen)
    as_operator = client.get(
        f"{stack.api}/v1/control-totals/2020-02", params={"bank_id": "ctlA"}, headers=stack.operator
    )
    assert json_of(as_operator, 200)["breaks"][0]["trail"][-1]["actor"] == f"operator:{stack.operator_name}"
    open_list = json_of(client.get(f"{stack.api}/v1/operator/control-totals/breaks", headers=stack.operator), 200)
    assert broken["id"] not in [b["id"] for b in open_list["breaks"]]
    acked = client.get(
        f"{stack.api}/v1/operator/control-totals/breaks", params={"status": "acknowledged"}, headers=stack.operator
    )
    assert [b["id"] for b in json_of(acked, 200)["breaks"]] == [broken["id"]]

    # The bank corrects its figures: version 2; version 1 is kept, the acknowledged break too.
    fixed = [{"target": RMB, "currency": "CNY", "count": n, "amount": str(total)}]
    second = json_of(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-02", "lines": fixed}, headers=stack.bank_a),
        201,
    )
    assert second["declaration"]["version"] == 2
    assert [v["version"] for v in second["versions"]] == [1, 2]
    assert second["comparison"] == expected_comparison(fixed, counted)
    assert [(b["id"], b["status"]) for b in second["breaks"]] == [(broken["id"], "acknowledged")]


def test_only_the_bank_itself_and_operators_see_its_control_totals(stack: Stack, client: httpx.Client) -> None:
    url = f"{stack.api}/v1/control-totals/2020-01"
    if client.get(url, headers=stack.bank_a).status_code == 404:  # run alone: declare first
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": []}, headers=stack.bank_a)
    problem(client.get(url), 401)
    problem(client.get(url, params={"bank_id": "ctlA"}, headers=stack.bank_b), 404)  # like the totals
    problem(client.get(url, headers=stack.bank_b), 404)  # B declared nothing
    problem(client.get(url, headers=stack.operator), 422)  # whose?
    assert json_of(client.get(url, params={"bank_id": "ctlA"}, headers=stack.operator), 200)["bank_id"] == "ctlA"
    problem(client.get(url, params={"bank_id": "nobody"}, headers=stack.operator), 404)
    # Bank keys never list every bank's breaks; operators never declare.
    problem(client.get(f"{stack.api}/v1/operator/control-totals/breaks", headers=stack.bank_a), 403)
    problem(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": []}, headers=stack.operator),
        403,
    )
    # A bank registered to sign cannot declare with its bearer key alone.
    problem(
        client.post(f"{stack.api}/v1/control-totals", json={"period": "2020-01", "lines": []}, headers=stack.signer),
        403,
    )
    problem(client.get(f"{stack.api}/v1/control-totals/2020-01", headers=stack.signer), 404)  # nothing stored
    # The operator's per-bank read is in the audit log.
    audit = json_of(client.get(f"{stack.api}/v1/audit", headers=stack.operator), 200)
    assert any(
        e["action"] == "operator.read" and e["subject"] == "/v1/control-totals/2020-01" for e in audit["entries"]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"period": "2020-03", "lines": [{"target": "retail", "currency": "CNY", "count": 1, "amount": "1"}]},
            {"#/lines/0/target"},
        ),
        (
            {"period": "2020-03", "lines": [{"target": RMB, "currency": "XAU", "count": 1, "amount": "1"}]},
            {"#/lines/0/currency"},
        ),
        (
            {"period": "2020-03", "lines": [{"target": RMB, "currency": "CNY", "count": -1, "amount": "1"}]},
            {"#/lines/0/count"},
        ),
        (
            {"period": "2020-03", "lines": [{"target": RMB, "currency": "CNY", "count": 1, "amount": 1.5}]},
            {"#/lines/0/amount"},
        ),
        (
            {"period": "2020-03", "lines": [{"target": RMB, "currency": "CNY", "count": 1, "amount": "1.005"}]},
            {"#/lines/0/amount"},
        ),
        ({"period": "2099-03", "lines": []}, {"#/period"}),
        ({"period": "2020-3", "lines": []}, {"#/period"}),
        ({"period": "2020-03", "lines": [], "bank_id": "ctlB"}, {"#/bank_id"}),
        ({"period": "2020-03"}, {"#/lines"}),
    ],
)
def test_bad_declarations_are_refused_with_pointers_and_store_nothing(
    stack: Stack, client: httpx.Client, body: dict[str, Any], expected: set[str]
) -> None:
    response = client.post(f"{stack.api}/v1/control-totals", json=body, headers=stack.bank_a)
    assert pointers(problem(response, 422)) == expected
    problem(client.get(f"{stack.api}/v1/control-totals/2020-03", headers=stack.bank_a), 404)


def test_malformed_json_and_bad_paths_are_problems_not_500s(stack: Stack, client: httpx.Client) -> None:
    headers = {**stack.bank_a, "Content-Type": "application/json"}
    problem(client.post(f"{stack.api}/v1/control-totals", content=b'{"period": ', headers=headers), 422)
    problem(client.post(f"{stack.api}/v1/control-totals", content=b"[]", headers=headers), 422)
    assert pointers(problem(client.get(f"{stack.api}/v1/control-totals/2020-13", headers=stack.bank_a), 422)) == {
        "#/path/period"
    }
    url = f"{stack.api}/v1/operator/control-totals/breaks"
    problem(client.post(f"{url}/0/acknowledge", json={"note": "x"}, headers=stack.operator), 422)
    problem(client.post(f"{url}/{2**63}/acknowledge", json={"note": "x"}, headers=stack.operator), 422)
    problem(client.get(url, params={"status": "gone"}, headers=stack.operator), 422)


def test_concurrent_declarations_store_one_version_each(stack: Stack, client: httpx.Client) -> None:
    """Eight identical first declarations at once: one is stored (201), seven get it back (200);
    then four different ones at once: versions 2 to 5, none lost. Without the per-bank-and-month
    lock (repository.lock_bank_period) two first declarations both read "none yet" and both
    insert version 1: the unique constraint fails one of them with a 500."""
    url = f"{stack.api}/v1/control-totals"
    line_ = {"target": OFFSHORE, "currency": "USD", "count": 1, "amount": "1.00"}
    start = threading.Barrier(8)

    def post(body: dict[str, Any]) -> int:
        start.wait(timeout=30)
        return httpx.post(url, json=body, headers=stack.bank_b, timeout=60).status_code

    same = {"period": "2020-06", "lines": [line_]}
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(post, [same] * 8))
    assert statuses == [200] * 7 + [201]
    start = threading.Barrier(4)
    changed = [{"period": "2020-06", "lines": [dict(line_, count=n, amount=f"{n}.00")]} for n in (2, 3, 4, 5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(post, changed)) == [201] * 4
    stored = json_of(client.get(f"{stack.api}/v1/control-totals/2020-06", headers=stack.bank_b), 200)
    assert [v["version"] for v in stored["versions"]] == [1, 2, 3, 4, 5]
    # Whichever came last is current; bank B sent no events, so its one open break is that
    # version's figures against nothing.
    current = stored["declaration"]["lines"]
    assert current in [c["lines"] for c in changed]
    [open_break] = [b for b in stored["breaks"] if b["status"] == "open"]
    assert open_break["declared"] == {"count": current[0]["count"], "amount": current[0]["amount"]}
    assert open_break["counted"] == {"count": 0, "amount": "0.00"}
