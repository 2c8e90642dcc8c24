"""Reading and validating pacs.002.001.11 answers against the official XSD (../shared)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from lxml import etree

from tests.support.shared import CODES_DIR, SCHEMAS_DIR

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.11"}


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS_DIR / "pacs.002.001.11.xsd")))


@cache
def status_reason_codes() -> frozenset[str]:
    data = json.loads((CODES_DIR / "external_status_reason_code.json").read_text())
    return frozenset(data["codes"])


@cache
def transaction_status_codes() -> frozenset[str]:
    data = json.loads((CODES_DIR / "external_payment_transaction_status_code.json").read_text())
    return frozenset(data["codes"])


@dataclass(frozen=True)
class TxReport:
    ids: dict[str, str | None]  # OrgnlEndToEndId, OrgnlUETR, ...; None: an element without text
    status: str
    reasons: tuple[str, ...]
    info: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    original_message_id: str
    original_type: str
    group_status: str
    transactions: tuple[TxReport, ...]


def parse_report(body: bytes) -> Report:
    """Validates against the XSD (raises on any violation) and reads the answer."""
    doc = etree.fromstring(body)
    schema().assertValid(doc)
    txs = []
    for tx in doc.iterfind("p:FIToFIPmtStsRpt/p:TxInfAndSts", NS):
        ids = {etree.QName(el).localname: el.text for el in tx if etree.QName(el).localname.startswith("Orgnl")}
        txs.append(
            TxReport(
                ids,
                tx.findtext("p:TxSts", namespaces=NS) or "",
                tuple(el.text or "" for el in tx.iterfind("p:StsRsnInf/p:Rsn/p:Cd", NS)),
                tuple(el.text or "" for el in tx.iterfind("p:StsRsnInf/p:AddtlInf", NS)),
            )
        )
    group = "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts/"
    return Report(
        doc.findtext(group + "p:OrgnlMsgId", namespaces=NS) or "",
        doc.findtext(group + "p:OrgnlMsgNmId", namespaces=NS) or "",
        doc.findtext(group + "p:GrpSts", namespaces=NS) or "",
        tuple(txs),
    )
