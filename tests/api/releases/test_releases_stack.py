"""Releases, revisions and known_at reads on the real stack (issue 24, acceptance of steps
1-3): events posted to a real ingest and counted by the real aggregator into PostgreSQL and
Redis, the release frozen by the real `settlementctl release create`, every read through
real API processes. Every expected figure comes from `Oracle`, Decimal sums computed here
from the events this module posted and the catalogue rule it names, never from the service.

The story: six 2020 events from three banks; the final release of 2020; then two late
events and a reversal. /v1/releases/{id}/revisions explains today's figure from the
published one to the cent, and known_at just before and just after the late events gives
both figures exactly."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from settlement_ctl.init import record_first_rule_set
from tests.conftest import ROOT
from tests.support.ctl import settlementctl_ok
from tests.support.pipeline import bearer
from tests.support.principals import add_bank_and_operator
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

RMB, ECOM, OFFSHORE = "cross_border_rmb", "cross_border_ecommerce", "offshore"
CATALOGUE = ROOT / "seeds" / "targets.yaml"
ECOM_RULE_ID = "rmb_ecommerce_and_cash_pool_are_cross_border_rmb"


@dataclass(frozen=True, slots=True)
class Posted:
    bank: str
    event_id: str
    category: str
    amount: str
    currency: str
    value_date: date
    reverses: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "categories": [self.category],
            "amount": self.amount,
            "currency": self.currency,
            "value_date": self.value_date.isoformat(),
            "direction": "outbound",
            "counterparty_country": "SG",
        }
        if self.reverses:
            body["reverses"] = self.reverses
        return body


@dataclass
class Oracle:
    """Per target: the exact sum and the count of the counted events among `posted`
    (reversed originals excluded). The one catalogue rule these events meet is spelt out
    here (seeds/targets.yaml, cross_border_rmb): e-commerce in CNY with a foreign
    counterparty also counts toward cross-border RMB. Every event here is in its target's
    currency, so no FX conversion is involved."""

    posted: list[Posted] = field(default_factory=list)
    ecommerce_rule: bool = True

    def targets_of(self, p: Posted) -> set[str]:
        found = {p.category}
        if self.ecommerce_rule and p.category == ECOM and p.currency == "CNY":
            found.add(RMB)
        return found

    def figure(self, target: str) -> tuple[Decimal, int]:
        reversed_ids = {(p.bank, p.reverses) for p in self.posted if p.reverses}
        total, count = Decimal("0.00"), 0
        for p in self.posted:
            if p.reverses or (p.bank, p.event_id) in reversed_ids or target not in self.targets_of(p):
                continue
            total += Decimal(p.amount)
            count += 1
        return total, count


@dataclass(frozen=True, slots=True)
class Stack:
    env: dict[str, str]
    ingest: str
    api: str  # MIN_CONTRIBUTORS=1 (the isolated environment's)
    strict_api: str  # MIN_CONTRIBUTORS=3: disclosure control at work
    banks: dict[str, dict[str, str]]
    operator: dict[str, str]


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Stack:
    url = isolated_env["DATABASE_URL"]
    record_first_rule_set(url, CATALOGUE)  # as `settlementctl init` does
    banks: dict[str, dict[str, str]] = {}
    operator = ""
    for n, bank in enumerate(("relA", "relB", "relC")):
        key, operator = add_bank_and_operator(url, bank, f"Release Bank {bank}", f"rel-ops-{n}")
        banks[bank] = bearer(key)
    ingest = services.serve("ingest", "settlement_ingest")
    services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api", {"PUBLIC_MODE": "false"})
    strict = services.serve("api-strict", "settlement_api", {"PUBLIC_MODE": "false", "MIN_CONTRIBUTORS": "3"})
    return Stack(isolated_env, ingest.url, api.url, strict.url, banks, bearer(operator))


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


ORACLE = Oracle()

FIRST = [
    Posted("relA", "a1", RMB, "1000.00", "CNY", date(2020, 3, 2)),
    Posted("relA", "a2", OFFSHORE, "250.10", "USD", date(2020, 4, 1)),
    Posted("relA", "a3", ECOM, "99.99", "CNY", date(2020, 5, 5)),
    Posted("relB", "b1", RMB, "2500.50", "CNY", date(2020, 6, 1)),
    Posted("relB", "b2", RMB, "10.01", "CNY", date(2020, 7, 1)),
    Posted("relC", "c1", OFFSHORE, "7.77", "USD", date(2020, 8, 8)),
]
LATE = [
    Posted("relA", "a4", RMB, "123.45", "CNY", date(2020, 12, 30)),
    Posted("relC", "c2", RMB, "0.55", "CNY", date(2020, 11, 11)),
    Posted("relB", "b2-r", RMB, "10.01", "CNY", date(2020, 7, 2), reverses="b2"),
]


def post_and_count(stack: Stack, client: httpx.Client, events: Sequence[Posted]) -> None:
    """Posts each event, then waits until GET /v1/events/{id} shows it counted (reversed)."""
    for e in events:
        response = client.post(f"{stack.ingest}/v1/events", json=e.body(), headers=stack.banks[e.bank])
        assert response.status_code == 202, response.text
        ORACLE.posted.append(e)
    pending = {(e.bank, e.event_id): "counted" for e in events}
    pending.update({(e.bank, e.reverses): "reversed" for e in events if e.reverses})
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for (bank, event_id), status in list(pending.items()):
            body = client.get(f"{stack.api}/v1/events/{event_id}", headers=stack.banks[bank]).json()
            if body.get("status") == status:
                del pending[(bank, event_id)]
        time.sleep(0.3)
    assert not pending, f"not counted in 120 s: {pending}"


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:800]
    body: dict[str, Any] = response.json()
    return body


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def progress_rows(
    stack: Stack,
    client: httpx.Client,
    known_at: str | None,
    *,
    api: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    params = {"period": "2020"} | ({"known_at": known_at} if known_at else {})
    body = ok(client.get(f"{api or stack.api}/v1/progress", params=params, headers=headers or stack.operator))
    if known_at is None:
        assert body["known_at"] is None
    else:
        assert datetime.fromisoformat(body["known_at"]) == datetime.fromisoformat(known_at)
    return {row["code"]: row for row in body["targets"]}


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


@dataclass
class Story:
    release_id: int = 0
    before: str = ""  # known_at after the release, before the late events
    after: str = ""  # known_at after the late events
    published: dict[str, tuple[Decimal, int]] = field(default_factory=dict)
    today: dict[str, tuple[Decimal, int]] = field(default_factory=dict)


STORY = Story()


def test_a_final_release_freezes_the_figures_the_oracle_expects(stack: Stack, client: httpx.Client) -> None:
    post_and_count(stack, client, FIRST)
    STORY.published = {t: ORACLE.figure(t) for t in (RMB, ECOM, OFFSHORE)}
    out = settlementctl_ok(
        stack.env, "release", "create", "--period", "2020", "--kind", "final", "--note", "2020 final"
    )
    match = re.search(r"release (\d+) created", out)
    assert match, out
    STORY.release_id = int(match.group(1))
    release = ok(client.get(f"{stack.api}/v1/releases/{STORY.release_id}", headers=stack.operator))
    assert (release["period"], release["kind"], release["note"]) == ("2020", "final", "2020 final")
    figures = {f["target"]: f for f in release["figures"]}
    for target, (amount, count) in STORY.published.items():
        assert figures[target]["amount"] == money(amount), target
        assert figures[target]["events"] == count, target
        assert figures[target]["as_of"] == "2020-12-31"
    assert figures["factor_market"]["amount"] == "0.00"
    listed = ok(client.get(f"{stack.api}/v1/releases", headers=stack.banks["relA"]))["releases"]
    assert [r["id"] for r in listed] == [STORY.release_id]
    # Nothing changed since: every current figure is final.
    rows = progress_rows(stack, client, None)
    assert {rows[t]["observation_status"] for t in rows} == {"final"}
    assert rows[RMB]["final_release_id"] == STORY.release_id


def test_late_events_and_a_reversal_are_revisions_explained_to_the_cent(stack: Stack, client: httpx.Client) -> None:
    time.sleep(0.2)
    STORY.before = stamp(datetime.now(UTC))
    time.sleep(0.2)
    post_and_count(stack, client, LATE)
    time.sleep(0.2)
    STORY.after = stamp(datetime.now(UTC))
    STORY.today = {t: ORACLE.figure(t) for t in (RMB, ECOM, OFFSHORE)}
    body = ok(client.get(f"{stack.api}/v1/releases/{STORY.release_id}/revisions", headers=stack.operator))
    rows = {r["target"]: r for r in body["revisions"]}
    rmb = rows[RMB]
    published, today = STORY.published[RMB], STORY.today[RMB]
    assert (rmb["published"], rmb["published_events"]) == (money(published[0]), published[1])
    assert (rmb["today"], rmb["today_events"]) == (money(today[0]), today[1])
    assert rmb["difference"] == money(today[0] - published[0])
    explained = rmb["explained"]
    counted = [e for e in LATE if not e.reverses]
    assert explained["counted"] == {"events": 2, "amount": money(sum((Decimal(e.amount) for e in counted), Decimal(0)))}
    assert explained["reversed"] == {"events": 1, "amount": "-10.01"}
    assert (explained["re_derived"], explained["rounding"]) == ("0.00", "0.00")
    parts = [rmb["published"], explained["counted"]["amount"], explained["reversed"]["amount"]]
    parts += [explained["re_derived"], explained["rounding"]]
    assert sum(Decimal(p) for p in parts) == Decimal(rmb["today"])
    by_bank = {b["bank_id"]: b for b in explained["by_bank"]}
    assert by_bank["relA"]["counted"] == {"events": 1, "amount": "123.45"}
    assert by_bank["relC"]["counted"] == {"events": 1, "amount": "0.55"}
    assert by_bank["relB"]["reversed"] == {"events": 1, "amount": "-10.01"}
    assert by_bank["relB"]["counted"] == {"events": 0, "amount": "0.00"}
    assert rmb["observation_status"] == "revised"
    unchanged = rows[OFFSHORE]
    assert unchanged["published"] == unchanged["today"] == money(STORY.published[OFFSHORE][0])
    assert unchanged["explained"]["counted"]["events"] == 0
    assert unchanged["observation_status"] == "final"
    current = progress_rows(stack, client, None)
    assert (current[RMB]["observation_status"], current[OFFSHORE]["observation_status"]) == ("revised", "final")


def test_known_at_before_and_after_the_late_events_gives_both_figures(stack: Stack, client: httpx.Client) -> None:
    for known_at, expected in ((STORY.before, STORY.published), (STORY.after, STORY.today)):
        rows = progress_rows(stack, client, known_at)
        for target, (amount, count) in expected.items():
            assert rows[target]["settled"] == money(amount), (known_at, target)
            assert rows[target]["events_counted"] == count, (known_at, target)
        # As known before the late events, the final release was published and unrevised.
        assert rows[RMB]["observation_status"] == ("final" if known_at == STORY.before else "revised")
        series = ok(
            client.get(
                f"{stack.api}/v1/progress/{RMB}/series",
                params={"period": "2020", "granularity": "month", "as_of": "2020-12-31", "known_at": known_at},
                headers=stack.operator,
            )
        )
        assert series["settled"] == money(expected[RMB][0])
        own = ok(
            client.get(
                f"{stack.api}/v1/totals",
                params={
                    "category": RMB,
                    "granularity": "year",
                    "from": "2020-01-01",
                    "to": "2020-12-31",
                    "known_at": known_at,
                },
                headers=stack.banks["relA"],
            )
        )
        mine = Oracle([p for p in ORACLE.posted if p.bank == "relA"])
        if known_at == STORY.before:
            mine = Oracle([p for p in mine.posted if p not in LATE])
        assert own["points"][0]["amount"] == money(mine.figure(RMB)[0])
    # Long before anything was posted, nothing was known.
    early = progress_rows(stack, client, stamp(datetime.now(UTC) - timedelta(days=3650)))
    assert early[RMB]["settled"] == "0.00"
    assert early[RMB]["events_counted"] == 0


def test_known_at_now_equals_the_redis_projection(stack: Stack, client: httpx.Client) -> None:
    present = progress_rows(stack, client, None)
    known = progress_rows(stack, client, stamp(datetime.now(UTC)))
    keys = ("settled", "settled_by_currency", "events_counted", "previous_period_settled", "status")
    for code, row in present.items():
        assert {k: row[k] for k in keys} == {k: known[code][k] for k in keys}, code


def test_known_at_reads_keep_disclosure_control(stack: Stack, client: httpx.Client) -> None:
    """MIN_CONTRIBUTORS=3: before the late events cross-border RMB came from two banks (A and
    B), after them from three; offshore always from two. A bank key reading as known then
    sees what a present read would have shown then: no way round disclosure control."""
    bank = stack.banks["relC"]
    before = progress_rows(stack, client, STORY.before, api=stack.strict_api, headers=bank)
    after = progress_rows(stack, client, STORY.after, api=stack.strict_api, headers=bank)
    present = progress_rows(stack, client, None, api=stack.strict_api, headers=bank)
    assert before[RMB]["settled"] is None
    assert before[RMB]["suppressed"] is True
    assert before[RMB]["observation_status"] is None
    assert after[RMB]["settled"] == present[RMB]["settled"] == money(STORY.today[RMB][0])
    for rows in (before, after, present):
        assert rows[OFFSHORE]["settled"] is None
        assert rows[OFFSHORE]["suppressed"] is True
    release = ok(client.get(f"{stack.strict_api}/v1/releases/{STORY.release_id}", headers=bank))
    figures = {f["target"]: f for f in release["figures"]}
    assert figures[RMB]["amount"] is None
    assert figures[RMB]["suppressed"] is True
    revisions = ok(client.get(f"{stack.strict_api}/v1/releases/{STORY.release_id}/revisions", headers=bank))
    for row in revisions["revisions"]:
        assert row["explained"]["by_bank"] is None, "per-bank explanations are for operators only"
    rmb = {r["target"]: r for r in revisions["revisions"]}[RMB]
    assert rmb["published"] is None
    assert rmb["explained"]["counted"]["amount"] is None
    offshore = ok(
        client.get(
            f"{stack.strict_api}/v1/progress/{OFFSHORE}/series",
            params={"period": "2020", "known_at": STORY.after},
            headers=bank,
        )
    )
    assert offshore["settled"] is None


@pytest.mark.parametrize("value", ["2021-01-15", "2021-01-15T08:00:00", "yesterday", "2021-02-30T00:00:00Z", "９"])
@pytest.mark.parametrize("path", ["/v1/progress", f"/v1/progress/{RMB}/series", "/v1/totals"])
def test_a_bad_known_at_is_a_problem_with_a_pointer(stack: Stack, client: httpx.Client, path: str, value: str) -> None:
    response = client.get(f"{stack.api}{path}", params={"known_at": value}, headers=stack.operator)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/query/known_at"]


def test_a_future_known_at_is_refused(stack: Stack, client: httpx.Client) -> None:
    future = stamp(datetime.now(UTC) + timedelta(hours=1))
    response = client.get(f"{stack.api}/v1/progress", params={"known_at": future}, headers=stack.operator)
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/query/known_at"]


def test_the_calendar_shows_releases_due_and_overdue_to_operators(stack: Stack, client: httpx.Client) -> None:
    body = ok(client.get(f"{stack.api}/v1/operator/release-calendar", headers=stack.operator))
    entries = {(e["period"], e["kind"]): e for e in body["entries"]}
    # seeds/release_calendar.yaml promises 2020's final by 2021-03-31: made years later.
    assert entries[("2020", "final")]["state"] == "released_late"
    assert entries[("2020", "final")]["release_id"] == STORY.release_id
    assert entries[("2020", "preliminary")]["state"] == "overdue"
    assert client.get(f"{stack.api}/v1/operator/release-calendar", headers=stack.banks["relA"]).status_code == 403


def test_an_unknown_release_is_404_and_a_bad_id_422(stack: Stack, client: httpx.Client) -> None:
    assert client.get(f"{stack.api}/v1/releases/999999", headers=stack.operator).status_code == 404
    response = client.get(f"{stack.api}/v1/releases/abc/revisions", headers=stack.operator)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_rule_change_and_rebuild_is_known_from_the_rebuild_on(
    stack: Stack, client: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The catalogue's e-commerce rule is disabled and `settlementctl rebuild` recounts the
    history: known before the rebuild, e-commerce CNY abroad still counts toward
    cross-border RMB; after it, not, and the revision calls the difference re-derived."""
    text = CATALOGUE.read_text(encoding="utf-8")
    head, rule = text.split(f"id: {ECOM_RULE_ID}", 1)
    assert "enabled: true" in rule.split("- id:", 1)[0]
    changed = tmp_path_factory.mktemp("catalogue") / "targets.yaml"
    changed.write_text(head + f"id: {ECOM_RULE_ID}" + rule.replace("enabled: true", "enabled: false", 1), "utf-8")
    before = stamp(datetime.now(UTC))
    time.sleep(0.2)
    out = settlementctl_ok({**stack.env, "TARGETS_FILE": str(changed)}, "rebuild")
    assert "rules changed: rule set" in out, out
    time.sleep(0.2)
    after = stamp(datetime.now(UTC))
    without = Oracle(list(ORACLE.posted), ecommerce_rule=False).figure(RMB)
    assert without != STORY.today[RMB]  # the rule mattered: a3 (99.99) moves
    for known_at, (amount, count) in ((before, STORY.today[RMB]), (after, without)):
        row = progress_rows(stack, client, known_at)[RMB]
        assert (row["settled"], row["events_counted"]) == (money(amount), count), known_at
    # The projection was rebuilt with the new rules: known_at now equals it again.
    present = progress_rows(stack, client, None)
    known = progress_rows(stack, client, stamp(datetime.now(UTC)))
    assert present[RMB]["settled"] == known[RMB]["settled"] == money(without[0])
    body = ok(client.get(f"{stack.api}/v1/releases/{STORY.release_id}/revisions", headers=stack.operator))
    rmb = {r["target"]: r for r in body["revisions"]}[RMB]
    assert rmb["today"] == money(without[0])
    assert rmb["explained"]["re_derived"] == "-99.99"
    assert rmb["explained"]["counted"] == {"events": 2, "amount": "124.00"}
    assert rmb["explained"]["reversed"] == {"events": 1, "amount": "-10.01"}
    parts = [rmb["published"], rmb["explained"]["counted"]["amount"], rmb["explained"]["reversed"]["amount"]]
    parts += [rmb["explained"]["re_derived"], rmb["explained"]["rounding"]]
    assert sum(Decimal(p) for p in parts) == Decimal(rmb["today"])
