"""pacs.002.001.11 `FIToFIPmtStsRpt`: the ISO 20022 answer to an ISO 20022 message.

Per transaction: its original ids (`OrgnlInstrId`, `OrgnlEndToEndId`, `OrgnlTxId`,
`OrgnlUETR`, camt.054 `AcctSvcrRef`), `TxSts` and, for anything but a plain acceptance, a
`StsRsnInf` with a code from ISO's ExternalStatusReason1Code list and the problem's pointer
and message in `AddtlInf`. The reason codes (REASONS) are the table in
docs/ingest-contract.md. Group status: ACTC when every transaction is accepted or a
duplicate, RJCT when every one is rejected, PART otherwise.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as StdET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from settlement_ingest.iso20022.transaction import IsoMessage, Transaction

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.11"
ACCEPTED = "ACTC"  # authentication, syntactical and semantical validation successful
REJECTED = "RJCT"
PARTIAL = "PART"  # group status only

# Reason codes (ExternalStatusReason1Code) by the event field a problem points at.
REASONS: dict[str, tuple[str, str]] = {
    "currency": ("AM03", "currency not accepted"),
    "amount": ("AM12", "amount invalid or missing"),
    "value_date": ("DT01", "value date invalid or missing"),
    "event_id": ("FF08", "no usable reference (UETR, EndToEndId, TxId, InstrId)"),
    "uetr": ("FF08", "UETR invalid"),
    "direction": ("RC05", "the bank's BIC is neither the debtor's nor the creditor's agent"),
    "counterparty_country": ("BE09", "country code invalid"),
    "categories": ("FF07", "purpose missing: the transaction could not be classified"),
    "category": ("FF07", "purpose missing: the transaction could not be classified"),
}
ZERO_AMOUNT = ("AM01", "amount is zero")
ABOVE_MAXIMUM = ("AM02", "amount above the allowed maximum")
DUPLICATE = ("DUPL", "a duplicate of a transaction already accepted: counted once")
CONFLICT = ("DU03", "the id was already used for a different transaction")
OTHER = ("NARR", "see the additional information")
ALL_CODES = frozenset(code for code, _ in (*REASONS.values(), ZERO_AMOUNT, ABOVE_MAXIMUM, DUPLICATE, CONFLICT, OTHER))

_UUID4 = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")
_ID_ELEMENTS = (("InstrId", "OrgnlInstrId"), ("EndToEndId", "OrgnlEndToEndId"), ("TxId", "OrgnlTxId"))
_MAX35 = 35
_MAX105 = 105


@dataclass(frozen=True, slots=True)
class Finding:
    pointer: str
    message: str


@dataclass(frozen=True, slots=True)
class TxStatus:
    """One transaction's outcome as the report states it."""

    status: str  # "accepted", "duplicate" or "rejected"
    problem_type: str | None  # the problem's type slug ("validation", "conflict", ...)
    findings: tuple[Finding, ...]


def reason_for(finding: Finding) -> tuple[str, str]:
    field = finding.pointer.removeprefix("#/").split("/", 1)[0]
    if field == "amount" and "greater than 0" in finding.message:
        return ZERO_AMOUNT
    if field == "amount" and "exceeds the maximum" in finding.message:
        return ABOVE_MAXIMUM
    return REASONS.get(field, OTHER)


def _sub(parent: StdET.Element, name: str, value: str | None = None) -> StdET.Element:
    el = StdET.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if value is not None:
        el.text = value
    return el


def _max(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _reason(parent: StdET.Element, code: str, texts: Sequence[str]) -> None:
    info = _sub(parent, "StsRsnInf")
    _sub(_sub(info, "Rsn"), "Cd", code)
    for line in texts:
        _sub(info, "AddtlInf", _max(line, _MAX105))


def _transaction(parent: StdET.Element, tx: Transaction, outcome: TxStatus) -> None:
    entry = _sub(parent, "TxInfAndSts")
    ids = dict(tx.original_ids)
    for iso, element in _ID_ELEMENTS:
        value = ids.get(iso)
        if value is not None and len(value) <= _MAX35:
            _sub(entry, element, value)
    uetr = (ids.get("UETR") or "").lower()
    if _UUID4.fullmatch(uetr):
        _sub(entry, "OrgnlUETR", uetr)
    rejected = outcome.status == "rejected"
    _sub(entry, "TxSts", REJECTED if rejected else ACCEPTED)
    if outcome.status == "duplicate":
        _reason(entry, DUPLICATE[0], [DUPLICATE[1]])
    elif rejected and outcome.problem_type == "conflict":
        _reason(entry, CONFLICT[0], [f"{f.pointer}: {f.message}" for f in outcome.findings] or [CONFLICT[1]])
    elif rejected:
        by_code: dict[str, list[str]] = {}
        for finding in outcome.findings or (Finding("#", "rejected"),):
            by_code.setdefault(reason_for(finding)[0], []).append(f"{finding.pointer}: {finding.message}")
        for code, texts in by_code.items():
            _reason(entry, code, texts)
    account_ref = ids.get("AcctSvcrRef")
    if account_ref is not None and len(account_ref) <= _MAX35:
        _sub(entry, "AcctSvcrRef", account_ref)


def group_status(outcomes: Sequence[TxStatus]) -> str:
    rejected = sum(o.status == "rejected" for o in outcomes)
    if rejected == 0:
        return ACCEPTED
    return REJECTED if rejected == len(outcomes) else PARTIAL


def write_report(message: IsoMessage, outcomes: Sequence[TxStatus], now: datetime) -> bytes:
    """The pacs.002.001.11 document for a message's outcomes (same order as its items)."""
    document = StdET.Element(f"{{{NAMESPACE}}}Document")
    report = _sub(document, "FIToFIPmtStsRpt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", uuid.uuid4().hex)
    _sub(header, "CreDtTm", now.isoformat(timespec="seconds"))
    original = _sub(report, "OrgnlGrpInfAndSts")
    message_id = message.message_id if message.message_id and len(message.message_id) <= _MAX35 else "NOTPROVIDED"
    _sub(original, "OrgnlMsgId", message_id)
    _sub(original, "OrgnlMsgNmId", message.message_type)
    _sub(original, "OrgnlNbOfTxs", str(len(message.items)))
    _sub(original, "GrpSts", group_status(outcomes) if outcomes else ACCEPTED)
    if message.skipped:
        _reason(original, OTHER[0], [f"{s.source}: skipped, {s.reason}" for s in message.skipped][:10])
    for tx, outcome in zip(message.items, outcomes, strict=True):
        _transaction(report, tx, outcome)
    body: bytes = StdET.tostring(document, encoding="utf-8", xml_declaration=True, default_namespace=NAMESPACE)
    return body
