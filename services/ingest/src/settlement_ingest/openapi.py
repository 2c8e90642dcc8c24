"""The ingest OpenAPI document, built from the same constants and settings the validators use.

Bodies are read raw (for HMAC and exact error pointers), so FastAPI cannot infer them; the
event schema is published here with every rule `validation.validate_event` enforces that JSON
Schema can state: enums from the category/currency/country sets, the event_id pattern, an
amount pattern that excludes zero and caps the integer digits at `max_amount`, the decimals
each currency allows (`if`/`then` per minor-unit group) and an exact value_date pattern for
the accepted window (it moves with "today", so the document is rebuilt each day).
"""

from __future__ import annotations

import calendar
import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from settlement_core.categories import MAX_CATEGORIES
from settlement_core.corrections import MAX_REASON_TEXT, REASON_TEXT_PATTERN
from settlement_core.identifiers import EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH
from settlement_core.money import MINOR_UNITS
from settlement_core.problems import install_problem_schema
from settlement_core.rules import Action, Counterparty
from settlement_ingest.schemas import BatchIn, EventIn
from settlement_ingest.validation import COUNTERPARTY_COUNTRIES, DIRECTIONS, Rules

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _alternation(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "(" + "|".join(values) + ")"


def _two_digits(lo: int, hi: int) -> str:
    """A regex for the two-digit numbers lo..hi, one character class per tens digit."""
    parts = []
    for tens in range(lo // 10, hi // 10 + 1):
        first, last = max(lo, tens * 10) % 10, min(hi, tens * 10 + 9) % 10
        parts.append(f"{tens}{first}" if first == last else f"{tens}[{first}-{last}]")
    return _alternation(parts)


def _months(year: int, first: date | None, last: date | None) -> str:
    """Month-day alternatives of `year`, cut at `first`/`last` when they fall in it."""
    m_lo = first.month if first and first.year == year else 1
    m_hi = last.month if last and last.year == year else 12
    months = []
    for month in range(m_lo, m_hi + 1):
        d_lo = first.day if first and (first.year, first.month) == (year, month) else 1
        full = calendar.monthrange(year, month)[1]
        d_hi = last.day if last and (last.year, last.month) == (year, month) else full
        months.append(f"{month:02d}-{_two_digits(d_lo, d_hi)}")
    return _alternation(months)


def date_range_pattern(first: date, last: date) -> str:
    """An anchored regex matching exactly the calendar dates first..last as YYYY-MM-DD."""
    parts = []
    inner = range(first.year + 1, last.year)
    for leap in (False, True):
        years = [str(y) for y in inner if calendar.isleap(y) == leap]
        if years:
            parts.append(f"{_alternation(years)}-{_months(2000 if leap else 2001, None, None)}")
    parts.append(f"{first.year}-{_months(first.year, first, last)}")
    if last.year != first.year:
        parts.append(f"{last.year}-{_months(last.year, first, last)}")
    return "^" + _alternation(parts) + "$"


def amount_pattern(max_amount: Decimal, decimals: int) -> str:
    """Positive decimal text with at most `decimals` places, not above `max_amount`.

    Exact when `max_amount` is a power of ten (the default 10^15); otherwise the pattern caps
    the digit count and the description states the exact maximum.
    """
    limit = int(max_amount)
    digits = len(str(limit))
    power_of_ten = Decimal(limit) == max_amount and str(limit) == "1" + "0" * (digits - 1)
    fraction = f"(\\.[0-9]{{1,{decimals}}})?" if decimals else ""
    # 0.x: the first non-zero digit at place i, then at most decimals - i - 1 more digits.
    small = [f"0{{{i}}}[1-9][0-9]{{0,{decimals - i - 1}}}" for i in range(decimals)]
    whole = f"[1-9][0-9]{{0,{digits - 2 if power_of_ten else digits - 1}}}{fraction}"
    options = [whole]
    if small:
        options.append("0\\." + _alternation(small))
    if power_of_ten:
        options.append(f"{limit}" + (f"(\\.0{{1,{decimals}}})?" if decimals else ""))
    return "^(" + "|".join(options) + ")$"


def event_schema(base: dict[str, Any], rules: Rules, today: date) -> dict[str, Any]:
    """EventIn's schema with the validators' constraints (fields the model lacks are left alone)."""
    schema = copy.deepcopy(base)
    props: dict[str, Any] = schema.get("properties", {})
    currencies = sorted(c for c in rules.currencies if c in MINOR_UNITS)
    most = max(MINOR_UNITS[c] for c in currencies)
    codes = sorted(rules.categories)  # the catalogue's, as the validator knows them

    def constrain(name: str, **constraints: Any) -> None:
        if name not in props:
            return
        target = props[name]
        # Optional fields are `anyOf: [{string}, {null}]`: constrain the string branch.
        for branch in target.get("anyOf", [target]):
            if branch.get("type") == "string" or "$ref" in branch or branch is target:
                branch.pop("$ref", None)
                branch.update(type="string", **constraints)
                break

    constrain("event_id", pattern=EVENT_ID_PATTERN.pattern, maxLength=MAX_EVENT_ID_LENGTH, minLength=1)
    constrain("category", enum=codes)
    constrain("currency", enum=currencies)
    constrain("amount", pattern=amount_pattern(rules.max_amount, most))
    latest = today + timedelta(days=rules.future_days)
    constrain("value_date", pattern=date_range_pattern(rules.earliest_value_date, latest), format="date")
    constrain("direction", enum=list(DIRECTIONS))
    constrain("counterparty_country", enum=sorted(COUNTERPARTY_COUNTRIES))
    constrain("reverses", pattern=EVENT_ID_PATTERN.pattern, maxLength=MAX_EVENT_ID_LENGTH, minLength=1)
    constrain("uetr", pattern=UUID_PATTERN)
    constrain("corrects", pattern=EVENT_ID_PATTERN.pattern, maxLength=MAX_EVENT_ID_LENGTH, minLength=1)
    constrain("reason_code", enum=sorted(rules.reasons.codes))
    constrain("reason_text", pattern=REASON_TEXT_PATTERN.pattern, maxLength=MAX_REASON_TEXT, minLength=1)
    # Fewer decimals for some currencies (JPY 0): one if/then per minor-unit group.
    groups: dict[int, list[str]] = {}
    for code in currencies:
        groups.setdefault(MINOR_UNITS[code], []).append(code)
    schema["allOf"] = [
        {
            "if": {"properties": {"currency": {"enum": codes}}, "required": ["currency"]},
            "then": {"properties": {"amount": {"pattern": amount_pattern(rules.max_amount, places)}}},
        }
        for places, codes in sorted(groups.items())
        if places < most
    ]
    if "categories" in props:
        # `categories` (1-6 distinct codes) replaces `category`: exactly one of the two.
        many = props["categories"]
        for branch in many.get("anyOf", [many]):
            if branch.get("type") == "array":
                branch.update(items={"type": "string", "enum": codes}, uniqueItems=True)
                branch.setdefault("minItems", 1)
                branch.setdefault("maxItems", min(MAX_CATEGORIES, len(codes)))
        schema["required"] = [r for r in schema.get("required", []) if r not in ("category", "categories")]
        # A null counts as absent (the validator's rule), so each branch also needs a value.
        schema["allOf"].append(
            {
                "oneOf": [
                    {"required": ["category"], "properties": {"category": {"type": "string"}}},
                    {"required": ["categories"], "properties": {"categories": {"type": "array"}}},
                ]
            }
        )
    schema["allOf"].extend(_refusals(rules))
    schema["allOf"].extend(_correction_shape(rules))
    if not schema["allOf"]:
        del schema["allOf"]
    return schema


def _given(*names: str, **values: Any) -> dict[str, Any]:
    """A condition: each of `names` present and not null (null counts as absent), and each of
    `values` equal to its value."""
    props: dict[str, Any] = {n: {"not": {"type": "null"}} for n in names}
    props.update({n: {"const": v} for n, v in values.items()})
    return {"properties": props, "required": sorted({*names, *values})}


def _correction_shape(rules: Rules) -> list[dict[str, Any]]:
    """The rules between a correction's fields that a document can state
    (settlement_core.corrections): a client valid by the document is never refused by one.
    Only "a reference other than the event's own id" is left to the validator."""
    clauses: list[dict[str, Any]] = [
        {"not": _given("reverses", "corrects"), "description": "send either reverses or corrects, not both"},
        {"if": _given("corrects"), "then": _given("reason_code"), "description": "a correction needs a reason_code"},
        {
            "if": _given("reason_code"),
            "then": {"anyOf": [_given("reverses"), _given("corrects")]},
            "description": "a reason_code only with reverses or corrects",
        },
        {
            "if": _given("reason_text"),
            "then": _given("reason_code"),
            "description": "a reason_text needs a reason_code",
        },
    ]
    for code in sorted(rules.reasons.codes.values(), key=lambda c: c.code):
        if not code.correction:
            clauses.append(
                {"not": _given("corrects", reason_code=code.code), "description": f"{code.code} is a reversal's reason"}
            )
        if code.text_required:
            clauses.append(
                {
                    "if": _given(reason_code=code.code),
                    "then": _given("reason_text"),
                    "description": f"{code.code} needs a reason_text",
                }
            )
    return clauses


def _refusals(rules: Rules) -> list[dict[str, Any]]:
    """The catalogue's enabled refuse rules (e.g. offshore in CNY) as `not` clauses, so an event
    valid by the document is never refused by a rule."""
    clauses: list[dict[str, Any]] = []
    home = rules.counting.home_country
    for rule in rules.counting.rules:
        if not rule.enabled or rule.action is not Action.REFUSE:
            continue
        codes = sorted(rule.categories)
        conditions: list[dict[str, Any]] = [
            {
                "anyOf": [
                    {"properties": {"category": {"enum": codes}}, "required": ["category"]},
                    # "type": a null `categories` is absent (the validator's rule), and `contains`
                    # alone holds for a null, which made every CNY event with `categories: null`
                    # "refused by offshore_is_foreign_currency" in the document.
                    {
                        "properties": {"categories": {"type": "array", "contains": {"enum": codes}}},
                        "required": ["categories"],
                    },
                ]
            }
        ]
        if rule.currencies is not None:
            conditions.append({"properties": {"currency": {"enum": sorted(rule.currencies)}}, "required": ["currency"]})
        if rule.counterparty is not None:
            country: dict[str, Any] = {"const": home}
            if rule.counterparty is Counterparty.FOREIGN:
                country = {"not": country}
            conditions.append({"properties": {"counterparty_country": country}, "required": ["counterparty_country"]})
        if rule.direction is not None:
            conditions.append({"properties": {"direction": {"const": rule.direction.value}}, "required": ["direction"]})
        clauses.append({"not": {"allOf": conditions}, "description": f"refused by rule {rule.rule_id}: {rule.message}"})
    return clauses


def _strip_titles(node: Any) -> None:
    # Titles repeat the property names and add nothing a generated client can use.
    if isinstance(node, dict):
        node.pop("title", None)
        for value in node.values():
            _strip_titles(value)
    elif isinstance(node, list):
        for value in node:
            _strip_titles(value)


# Follow-up requests a client makes after an answer (also walked by schemathesis' stateful
# phase): resending an accepted event, or one item of a batch, must answer duplicate.
_RESEND = {
    "operationId": "post_event_v1_events_post",
    "requestBody": "$request.body",
    "description": "Resending the same event is safe: it answers 200 duplicate",
}
_RESEND_ITEM = {
    "operationId": "post_event_v1_events_post",
    "requestBody": "$request.body#/events/0",
    "description": "An item of the batch sent alone: duplicate when it was accepted",
}


ISO_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>CQB-20261102-0001</MsgId>
      <CreDtTm>2026-11-02T09:30:00+08:00</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    <CdtTrfTxInf>
      <PmtId>
        <EndToEndId>CQB-E2E-0001</EndToEndId>
        <UETR>0b1c8e2a-5d7f-4f4e-9a51-3c2d9e7a6b10</UETR>
      </PmtId>
      <IntrBkSttlmAmt Ccy="CNY">1500000.00</IntrBkSttlmAmt>
      <IntrBkSttlmDt>2026-11-02</IntrBkSttlmDt>
      <DbtrAgt><FinInstnId><BICFI>CQRCCNBJXXX</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><BICFI>DBSSSGSGXXX</BICFI></FinInstnId></CdtrAgt>
    </CdtTrfTxInf>
  </FIToFICstmrCdtTrf>
</Document>
"""


def _add_examples(document: dict[str, Any], event_example: dict[str, Any]) -> None:
    paths = document["paths"]
    second = {**event_example, "event_id": "CQB-2026-000125", "amount": "98000.00", "currency": "USD"}
    second.pop("uetr", None)
    batch = paths["/v1/events/batch"]["post"]["requestBody"]["content"]["application/json"]
    batch["example"] = {"events": [event_example, second]}
    # In the description, not as `example`: generators treat an XML example as the string
    # content of one element, and would send it wrapped (tests/contract posts this one as is).
    body = paths["/v1/iso20022"]["post"]["requestBody"]
    body["description"] = (
        "One pacs.008, pacs.009 or camt.054 document (001.08 or later). Example:\n\n```xml\n" + ISO_EXAMPLE + "```\n"
    )


def _add_links(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for status in ("200", "202"):
        paths["/v1/events"]["post"]["responses"][status]["links"] = {"Resend": _RESEND}
    paths["/v1/events/batch"]["post"]["responses"]["200"]["links"] = {"ResendFirstItem": _RESEND_ITEM}


def _constrain_iso_categories(document: dict[str, Any], rules: Rules) -> None:
    """`?category=` may repeat: distinct catalogue codes, at most MAX_CATEGORIES."""
    for parameter in document["paths"]["/v1/iso20022"]["post"].get("parameters", []):
        if parameter.get("name") == "category" and parameter.get("in") == "query":
            parameter["schema"] = {
                "type": "array",
                "items": {"type": "string", "enum": sorted(rules.categories)},
                "uniqueItems": True,
                "maxItems": min(MAX_CATEGORIES, len(rules.categories)),
            }
            parameter["style"], parameter["explode"] = "form", True


def build(app: FastAPI, rules: Rules, today: date, max_batch_events: int) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _, defs = models_json_schema(
        [(EventIn, "validation"), (BatchIn, "validation")], ref_template="#/components/schemas/{model}"
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    found: dict[str, Any] = defs.get("$defs", {})
    _strip_titles(found)
    schemas.update(found)
    schemas["EventIn"] = event_schema(found["EventIn"], rules, today)
    text = json.dumps({"paths": document["paths"], "schemas": schemas})
    for name in ("Category", "Direction"):  # inlined as enums above; drop when unreferenced
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
    batch = schemas["BatchIn"]
    # Items are validated one by one and answered per item, so any object is a valid item
    # (its field errors come back in `results`); a non-object item rejects the request.
    batch["properties"]["events"].update(
        maxItems=max_batch_events,
        items={"type": "object", "description": "An event as EventIn; invalid ones are rejected per item"},
    )
    _add_links(document)
    _constrain_iso_categories(document, rules)
    _add_examples(document, schemas["EventIn"]["examples"][0])
    install_problem_schema(document)
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document


__all__ = ["amount_pattern", "build", "date_range_pattern", "event_schema"]
