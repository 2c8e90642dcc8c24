"""Schemathesis hooks: what the OpenAPI documents cannot say, taught to the generator.

Loaded by `SCHEMATHESIS_HOOKS=tests.contract.hooks` (test_schemathesis.py sets it).

- XML bodies: JSON Schema cannot describe a pacs.008 message, so `application/xml` bodies
  come from a strategy that builds real pacs.008.001.08 messages (valid or with bad fields);
  a random string would only ever test the 400 path.
- `/v1/totals` and `/v1/banks/{bank_id}/totals`: `from` must not be after `to` and the range
  is capped per granularity, rules between parameters that OpenAPI cannot express (the
  descriptions state them). A generated pair that breaks them is narrowed to one day, using
  the server's own parser to tell, so the rule is never restated here.
- Control totals (`POST /v1/control-totals`): a declaration's rules between fields and with
  the clock (the month has ended; 0 events sum to 0 and n events to between n minor units
  and n x MAX_AMOUNT; one line per target and currency) cannot be said in JSON Schema. A
  *positive* case is made declarable (a month not yet over becomes 2020-01, each amount the
  count in whole units, repeated lines dropped); negative cases are left as generated.
- SDMX data (`/v1/sdmx/data/{flow}[/{key}]`): endPeriod must not end before startPeriod begins, a
  rule between two parameters; a positive case that breaks it ends where it starts.
- Events: `reverses` must differ from the event's own `event_id` (an event cannot reverse
  itself), a rule between two fields that JSON Schema cannot state; a generated event that
  breaks it loses its `reverses`. Likewise a correction's rules between fields
  (settlement_core.corrections): a positive case keeps one of `reverses` and `corrects`, a
  `corrects` other than its own id, a reason_code with a correction (not DUPLICATE) and only
  with a reference, a reason_text only with a code, and a text with OTHER.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import schemathesis
from hypothesis import strategies as st

from settlement_api.kit.known_at import parse_known_at
from settlement_api.sdmx.query import parse_data_query
from settlement_api.settings import ApiSettings
from settlement_api.totals.service import parse_totals_query
from settlement_core.catalogue import load_targets
from settlement_core.problems import Problem

ROOT = Path(__file__).resolve().parents[2]
TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")
# Only the point caps are read; the connection settings are irrelevant to the parser.
API_SETTINGS = ApiSettings.model_construct()
TOTALS_PATHS = ("/v1/totals", "/v1/banks/{bank_id}/totals")
CROSS_PARAMETER_SLUGS = ("invalid-range", "range-too-large")

_ID = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=4, max_size=20)
_AGENTS = st.sampled_from(["DBSSSGSGXXX", "HSBCHKHHHKH", "DEUTDEFFXXX", "BOFAUS3NXXX", "MHCBJPJTXXX"])


@st.composite
def _transaction(draw: st.DrawFn) -> str:
    currency = draw(st.sampled_from(["CNY", "USD", "EUR", "JPY", "HKD", "XXX"]))
    units = draw(st.integers(min_value=0, max_value=10**12))
    amount = str(units) if currency == "JPY" else f"{Decimal(units) / 100:.2f}"
    day = draw(st.dates(min_value=date(2009, 12, 1), max_value=date(2026, 12, 31)))
    return (
        "<CdtTrfTxInf><PmtId>"
        f"<EndToEndId>{draw(_ID)}</EndToEndId><TxId>{draw(_ID)}</TxId></PmtId>"
        f'<IntrBkSttlmAmt Ccy="{currency}">{amount}</IntrBkSttlmAmt>'
        f"<IntrBkSttlmDt>{day.isoformat()}</IntrBkSttlmDt>"
        f"<DbtrAgt><FinInstnId><BICFI>{draw(_AGENTS)}</BICFI></FinInstnId></DbtrAgt>"
        f"<CdtrAgt><FinInstnId><BICFI>{draw(_AGENTS)}</BICFI></FinInstnId></CdtrAgt>"
        "</CdtTrfTxInf>"
    )


@st.composite
def pacs008(draw: st.DrawFn) -> bytes:
    transactions = draw(st.lists(_transaction(), min_size=1, max_size=4))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>'
        f"<GrpHdr><MsgId>{draw(_ID)}</MsgId><CreDtTm>2026-11-02T09:30:00+08:00</CreDtTm>"
        f"<NbOfTxs>{len(transactions)}</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>"
        + "".join(transactions)
        + "</FIToFICstmrCdtTrf></Document>"
    ).encode()


schemathesis.openapi.media_type("application/xml", pacs008(), aliases=["text/xml"])


EVENT_PATHS = ("/v1/events", "/v1/events/batch")


def _without_self_reversal(event: Any) -> None:
    if isinstance(event, dict) and event.get("reverses") is not None and event.get("reverses") == event.get("event_id"):
        del event["reverses"]


def _consistent_reference(event: Any) -> None:
    if not isinstance(event, dict):
        return
    if event.get("corrects") is not None and (
        event.get("reverses") is not None or event.get("corrects") == event.get("event_id")
    ):
        del event["corrects"]
    if event.get("corrects") is not None and event.get("reason_code") in (None, "DUPLICATE"):
        event["reason_code"] = "WRONG_AMOUNT"
    if event.get("reason_code") is not None and event.get("corrects") is None and event.get("reverses") is None:
        del event["reason_code"]
    if event.get("reason_text") is not None and event.get("reason_code") is None:
        del event["reason_text"]
    if event.get("reason_code") == "OTHER" and event.get("reason_text") is None:
        event["reason_text"] = "explained"


CONTROL_TOTALS_PATH = "/v1/control-totals"


def _positive(case: Any) -> bool:
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    return bool(mode is not None and mode.is_positive)


def _declarable(body: dict[str, Any]) -> None:
    period, lines = body.get("period"), body.get("lines")
    this_month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    if isinstance(period, str) and period >= this_month:
        body["period"] = "2020-01"
    if not isinstance(lines, list):
        return
    seen: set[tuple[Any, Any]] = set()
    kept = []
    for line in lines:
        count = line.get("count") if isinstance(line, dict) else None
        if isinstance(count, float) and count.is_integer():
            count = int(count)  # JSON's 4.0 is the integer 4
        if not isinstance(line, dict) or isinstance(count, bool) or not isinstance(count, int):
            kept.append(line)
            continue
        key = (line.get("target"), line.get("currency"))
        if key in seen:
            continue
        seen.add(key)
        line["amount"] = str(count)
        kept.append(line)
    body["lines"] = kept


SDMX_DATA_PATHS = ("/v1/sdmx/data/{flow}", "/v1/sdmx/data/{flow}/{key}")


def _sdmx_periods_in_order(query: dict[str, Any]) -> None:
    start, end = query.get("startPeriod"), query.get("endPeriod")
    if not (isinstance(start, str) and isinstance(end, str)):
        return
    try:
        parse_data_query(start, end, None, None, None)
    except Problem as problem:
        if [e.pointer for e in problem.errors] == ["#/query/endPeriod"]:
            query["endPeriod"] = start


# Knowledge-time parameters (kit/known_at.py): a date-time the schema allows may still lie in
# the future, which nothing can be known at (422 by design). A positive case keeps a
# well-formed past instant; the negative phase still sends whatever it likes.
INSTANT_PARAMETERS = ("known_at", "asOf", "updatedAfter")
PAST_INSTANT = "2021-01-15T00:00:00Z"


def _past_instants(query: dict[str, Any]) -> None:
    for name in INSTANT_PARAMETERS:
        value = query.get(name)
        if value is None:
            continue
        try:
            at = parse_known_at(value if isinstance(value, str) else str(value), name)
        except Problem:
            at = None
        if at is None or at > datetime.now(UTC):
            query[name] = PAST_INSTANT


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    path = context.operation.path if context.operation is not None else None
    if isinstance(case.query, dict) and _positive(case):
        _past_instants(case.query)
    if path in SDMX_DATA_PATHS and isinstance(case.query, dict) and _positive(case):
        _sdmx_periods_in_order(case.query)
        return case
    if path == CONTROL_TOTALS_PATH and context.operation.method.upper() == "POST" and isinstance(case.body, dict):
        if _positive(case):
            _declarable(case.body)
        return case
    if context.operation is not None and context.operation.path in EVENT_PATHS and isinstance(case.body, dict):
        events = case.body.get("events")
        for event in events if isinstance(events, list) else [case.body]:
            _without_self_reversal(event)
            if _positive(case):
                _consistent_reference(event)
        return case
    if context.operation is None or context.operation.path not in TOTALS_PATHS or not case.query:
        return case
    query = case.query
    values = {name: query.get(name) for name in ("category", "granularity", "from", "to", "currency")}
    if not all(v is None or isinstance(v, str) for v in values.values()):
        return case
    try:
        parse_totals_query(
            TARGETS,
            API_SETTINGS,
            category=values["category"],
            granularity=values["granularity"],
            start=values["from"],
            end=values["to"],
            currency=values["currency"],
            bank_id=None,
        )
    except Problem as problem:
        if problem.slug in CROSS_PARAMETER_SLUGS:
            day = values["from"] or values["to"]
            if day is None:  # both defaulted: cannot break the rules
                return case
            query["from"] = query["to"] = day  # one day: in order and one point for any grain
    return case
