"""Hardened ISO 20022 intake: pacs.008, pacs.009 (credit transfers) and camt.054 (debit/credit
notifications), version 001.08 and later, turned into event objects for `validate_event`.

Parsing goes through defusedxml with DTDs, entities and external references forbidden, so
XXE and entity-expansion ("billion laughs") documents fail before any expansion happens.

Mapping (see docs/ingest-contract.md):
- pacs: one event per `CdtTrfTxInf`; camt.054: one per `Ntry` whose status is BOOK (other
  entries are reported as skipped).
- event_id = UETR, else EndToEndId (unless NOTPROVIDED), else TxId (camt.054: else the
  entry's NtryRef or AcctSvcrRef).
- amount/currency: `IntrBkSttlmAmt` (pacs) or `Amt` (camt); value_date: `IntrBkSttlmDt`
  (transaction, then group header) or `ValDt`.
- direction: camt `CdtDbtInd` (CRDT inbound, DBIT outbound); pacs: the side of the
  transfer the bank's registered BIC is on (debtor side = outbound); a bank without a
  registered BIC sends the instructions it produces, so its pacs transfers are outbound.
- counterparty_country: the other side's agent, from its BIC (characters 5-6) or else its
  `PstlAdr/Ctry`.
- camt `RvslInd=true`: the entry reverses the original transaction identified by its
  references. Its `CdtDbtInd` is the opposite of the original's, so the reversal carries the
  original's direction and counterparty and gets the id "<original id>:RVSL".
- categories: the `?category=` query (repeatable) when given, for every item; otherwise
  classified per transaction from the message (`classify`): `CtgyPurp/Cd` and `Purp/Cd`
  (INTC, CASH, SWEP, LIMA: cash pool -> mnc_headquarters; ECPG, ECPU, RETL with a foreign
  counterparty -> cross_border_ecommerce), the bank's own account (an `OSA` offshore
  account -> offshore) and the currency with the counterparty country (CNY with a foreign
  counterparty -> cross_border_rmb). A transaction nothing classifies is rejected with a
  pointer at #/categories, never counted under a guessed category.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET
from dataclasses import dataclass
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from settlement_core.problems import FieldError

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(pacs\.008|pacs\.009|camt\.054)\.001\.([0-9]{2})")
MIN_VERSION = 8
_NOT_PROVIDED = "NOTPROVIDED"
REVERSAL_SUFFIX = ":RVSL"

# ISO 20022 external code sets (ExternalCategoryPurpose1Code / ExternalPurpose1Code).
CASH_POOL_PURPOSES = frozenset({"INTC", "CASH", "SWEP", "LIMA"})
ECOMMERCE_PURPOSES = frozenset({"ECPG", "ECPU", "RETL"})
# Chinese offshore banking accounts (离岸账户) carry the OSA prefix; offshore business is
# known by its account, not by a purpose code.
OFFSHORE_ACCOUNT_PREFIX = "OSA"
UNCLASSIFIED = (
    "the transaction could not be classified from CtgyPurp/Purp, the account, the currency and the "
    "counterparty country; send ?category= for the message"
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What classification reads of one transaction."""

    purposes: frozenset[str]  # CtgyPurp/Cd and Purp/Cd codes, upper case
    own_account: str | None  # the bank's side's account id (Othr/Id or IBAN)
    currency: str | None
    counterparty_country: str | None


def classify(facts: Facts, home_country: str) -> tuple[str, ...]:
    """Pure: the categories a transaction's own fields show (sorted; may be empty)."""
    found: set[str] = set()
    foreign = facts.counterparty_country is not None and facts.counterparty_country != home_country
    if facts.purposes & CASH_POOL_PURPOSES:
        found.add("mnc_headquarters")
    if facts.purposes & ECOMMERCE_PURPOSES and foreign:
        found.add("cross_border_ecommerce")
    if facts.own_account is not None and facts.own_account.upper().startswith(OFFSHORE_ACCOUNT_PREFIX):
        found.add("offshore")
    if facts.currency == "CNY" and foreign:
        found.add("cross_border_rmb")
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class Classification:
    """How items get their categories: the query's (`given`) or classified from the message."""

    given: tuple[str, ...]
    home_country: str

    def apply(self, fields: dict[str, Any], facts: Facts, errors: list[FieldError]) -> None:
        if self.given:
            fields["categories"] = list(self.given)
            return
        found = classify(facts, self.home_country)
        if found:
            fields["categories"] = list(found)
        else:
            errors.append(FieldError("#/categories", UNCLASSIFIED))


class IsoDocumentError(ValueError):
    """The document as a whole cannot be used (400): malformed, unsafe or unsupported."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class IsoItem:
    """One transaction of a message: the event object derived from it, or why not."""

    source: str  # element path inside the document, for the bank's back office
    fields: dict[str, Any]
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class IsoMessage:
    message_type: str  # e.g. "pacs.008.001.08"
    items: tuple[IsoItem, ...]
    skipped: tuple[Skipped, ...]


class _Doc:
    """Namespace-aware lookups on one document."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" for step in path.split("/"))

    def find(self, el: StdET.Element, path: str) -> StdET.Element | None:
        return el.find(self._path(path))

    def findall(self, el: StdET.Element, path: str) -> list[StdET.Element]:
        return el.findall(self._path(path))

    def text(self, el: StdET.Element | None, path: str) -> str | None:
        if el is None:
            return None
        found = el.find(self._path(path))
        if found is None or found.text is None:
            return None
        value = found.text.strip()
        return value or None


def parse(raw: bytes) -> StdET.Element:
    try:
        root: StdET.Element = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise IsoDocumentError(
            "unsafe_xml", f"XML with DTDs, entities or external references is refused ({type(exc).__name__})"
        ) from None
    except StdET.ParseError as exc:
        raise IsoDocumentError("malformed_xml", f"not well-formed XML: {exc}") from None
    return root


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _find_document(root: StdET.Element) -> StdET.Element:
    # The Document may arrive alone or wrapped together with a business application header.
    for el in root.iter():
        if _local(el.tag)[1] == "Document":
            return el
    raise IsoDocumentError("unsupported_message", "no ISO 20022 <Document> element found")


def _amount_text(text: str) -> str:
    # ISO amounts may carry zero padding ("1000.00" JPY); the value is exact, so drop it and
    # let the currency's minor-unit rule judge the significant digits.
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _bic_matches(a: str | None, b: str | None) -> bool:
    # BIC8 and BIC11 ("XXX" = head office) name the same institution.
    return a is not None and b is not None and a[:8].upper() == b[:8].upper()


@dataclass(frozen=True, slots=True)
class _Agent:
    bic: str | None
    country: str | None


def _agent(doc: _Doc, el: StdET.Element | None) -> _Agent | None:
    if el is None:
        return None
    fin = doc.find(el, "FinInstnId")
    if fin is None:
        return None
    bic = doc.text(fin, "BICFI") or doc.text(fin, "BIC")
    country = bic[4:6].upper() if bic and len(bic) >= 6 else doc.text(fin, "PstlAdr/Ctry")
    return _Agent(bic, country)


def _first(*agents: _Agent | None) -> _Agent | None:
    return next((a for a in agents if a is not None), None)


def _event_id(uetr: str | None, end_to_end: str | None, tx_id: str | None) -> str | None:
    if uetr:
        return uetr
    if end_to_end and end_to_end.upper() != _NOT_PROVIDED:
        return end_to_end
    return tx_id


def _purposes(doc: _Doc, *elements: StdET.Element | None) -> frozenset[str]:
    codes = set()
    for el in elements:
        for path in ("PmtTpInf/CtgyPurp/Cd", "CtgyPurp/Cd", "Purp/Cd"):
            code = doc.text(el, path)
            if code:
                codes.add(code.upper())
    return frozenset(codes)


def _account(doc: _Doc, el: StdET.Element | None) -> str | None:
    return doc.text(el, "Id/Othr/Id") or doc.text(el, "Id/IBAN")


def _pacs_items(
    doc: _Doc, body: StdET.Element, kind: str, classification: Classification, bank_bic: str | None
) -> list[IsoItem]:
    group = doc.find(body, "GrpHdr")
    group_date = doc.text(group, "IntrBkSttlmDt")
    group_debtor_side = _agent(doc, doc.find(group, "InstgAgt")) if group is not None else None
    group_creditor_side = _agent(doc, doc.find(group, "InstdAgt")) if group is not None else None
    items: list[IsoItem] = []
    for n, tx in enumerate(doc.findall(body, "CdtTrfTxInf"), start=1):
        source = f"/Document/{_local(body.tag)[1]}/CdtTrfTxInf[{n}]"
        errors: list[FieldError] = []
        fields: dict[str, Any] = {}
        uetr = doc.text(tx, "PmtId/UETR")
        event_id = _event_id(uetr, doc.text(tx, "PmtId/EndToEndId"), doc.text(tx, "PmtId/TxId"))
        if event_id is None:
            errors.append(FieldError("#/event_id", "no PmtId/UETR, EndToEndId or TxId"))
        fields["event_id"] = event_id
        if uetr:
            fields["uetr"] = uetr
        _read_amount(doc.find(tx, "IntrBkSttlmAmt"), "IntrBkSttlmAmt", fields, errors)
        value_date = doc.text(tx, "IntrBkSttlmDt") or group_date
        if value_date is None:
            errors.append(FieldError("#/value_date", "IntrBkSttlmDt is missing"))
        fields["value_date"] = value_date

        debtor_side = _first(
            _agent(doc, doc.find(tx, "DbtrAgt")),
            _agent(doc, doc.find(tx, "Dbtr")) if kind == "pacs.009" else None,
            _agent(doc, doc.find(tx, "InstgAgt")),
            group_debtor_side,
        )
        creditor_side = _first(
            _agent(doc, doc.find(tx, "CdtrAgt")),
            _agent(doc, doc.find(tx, "Cdtr")) if kind == "pacs.009" else None,
            _agent(doc, doc.find(tx, "InstdAgt")),
            group_creditor_side,
        )
        counterparty: _Agent | None = None
        if bank_bic is None:
            # Without a registered BIC the message is taken as what the bank produces itself:
            # its own payment instruction, i.e. outbound to the creditor's side.
            fields["direction"], counterparty = "outbound", creditor_side
        elif debtor_side and _bic_matches(debtor_side.bic, bank_bic):
            fields["direction"], counterparty = "outbound", creditor_side
        elif creditor_side and _bic_matches(creditor_side.bic, bank_bic):
            fields["direction"], counterparty = "inbound", debtor_side
        else:
            errors.append(
                FieldError("#/direction", f"the bank's BIC {bank_bic} is neither the debtor's nor the creditor's agent")
            )
        if "direction" in fields:
            if counterparty is None or counterparty.country is None:
                errors.append(FieldError("#/counterparty_country", "the counterparty agent has no BIC or PstlAdr/Ctry"))
            else:
                fields["counterparty_country"] = counterparty.country
        own = "CdtrAcct" if fields.get("direction") == "inbound" else "DbtrAcct"
        facts = Facts(
            _purposes(doc, tx, group),
            _account(doc, doc.find(tx, own)),
            fields.get("currency"),
            fields.get("counterparty_country"),
        )
        classification.apply(fields, facts, errors)
        items.append(IsoItem(source, fields, tuple(errors)))
    return items


def _status(doc: _Doc, entry: StdET.Element) -> str | None:
    # camt.054.001.08 moved the status into <Sts><Cd>; earlier versions had the bare code.
    return doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts/Prtry") or doc.text(entry, "Sts")


def _camt_items(doc: _Doc, body: StdET.Element, classification: Classification) -> tuple[list[IsoItem], list[Skipped]]:
    items: list[IsoItem] = []
    skipped: list[Skipped] = []
    for n_ntf, notification in enumerate(doc.findall(body, "Ntfctn"), start=1):
        for n, entry in enumerate(doc.findall(notification, "Ntry"), start=1):
            source = f"/Document/BkToCstmrDbtCdtNtfctn/Ntfctn[{n_ntf}]/Ntry[{n}]"
            status = _status(doc, entry)
            if (status or "").upper() != "BOOK":
                skipped.append(Skipped(source, f"entry status {status or 'missing'} is not BOOK"))
                continue
            account = _account(doc, doc.find(notification, "Acct"))
            items.append(_camt_entry(doc, entry, source, classification, account))
    return items, skipped


def _camt_entry(
    doc: _Doc, entry: StdET.Element, source: str, classification: Classification, account: str | None
) -> IsoItem:
    """`account`: the notification's account, i.e. the bank's customer's own account."""
    errors: list[FieldError] = []
    fields: dict[str, Any] = {}
    tx = doc.find(entry, "NtryDtls/TxDtls")
    uetr = doc.text(tx, "Refs/UETR")
    original_id = (
        _event_id(uetr, doc.text(tx, "Refs/EndToEndId"), doc.text(tx, "Refs/TxId"))
        or doc.text(entry, "NtryRef")
        or doc.text(entry, "AcctSvcrRef")
    )
    reversal = (doc.text(entry, "RvslInd") or "").lower() in ("true", "1")
    if original_id is None:
        errors.append(
            FieldError("#/event_id", "no Refs/UETR, EndToEndId or TxId in TxDtls and no NtryRef or AcctSvcrRef")
        )
        fields["event_id"] = None
    elif reversal:
        fields["event_id"] = original_id + REVERSAL_SUFFIX
        fields["reverses"] = original_id
    else:
        fields["event_id"] = original_id
        if uetr:
            fields["uetr"] = uetr

    _read_amount(doc.find(entry, "Amt"), "Amt", fields, errors)

    value_date = (
        doc.text(entry, "ValDt/Dt")
        or (doc.text(entry, "ValDt/DtTm") or "")[:10]
        or doc.text(tx, "RltdDts/IntrBkSttlmDt")
    )
    if not value_date:
        errors.append(FieldError("#/value_date", "ValDt is missing"))
    fields["value_date"] = value_date or None

    indicator = (doc.text(entry, "CdtDbtInd") or "").upper()
    if indicator not in ("CRDT", "DBIT"):
        errors.append(FieldError("#/direction", "CdtDbtInd must be CRDT or DBIT"))
    else:
        credited = indicator == "CRDT"
        if reversal:  # the booking runs opposite to the original transaction
            credited = not credited
        fields["direction"] = "inbound" if credited else "outbound"
        # The counterparty of an inbound payment is the debtor's side, and vice versa.
        agents = doc.find(tx, "RltdAgts") if tx is not None else None
        agent = _agent(doc, doc.find(agents, "DbtrAgt" if credited else "CdtrAgt")) if agents is not None else None
        if agent is None or agent.country is None:
            errors.append(
                FieldError(
                    "#/counterparty_country",
                    "RltdAgts/" + ("DbtrAgt" if credited else "CdtrAgt") + " has no BIC or PstlAdr/Ctry",
                )
            )
        else:
            fields["counterparty_country"] = agent.country
    facts = Facts(_purposes(doc, tx), account, fields.get("currency"), fields.get("counterparty_country"))
    classification.apply(fields, facts, errors)
    return IsoItem(source, fields, tuple(errors))


def read_message(raw: bytes, classification: Classification, bank_bic: str | None) -> IsoMessage:
    """Parse one ISO 20022 document; raises IsoDocumentError for the whole-document 400s."""
    document = _find_document(parse(raw))
    namespace = _local(document.tag)[0]
    match = _NAMESPACE.fullmatch(namespace)
    if match is None:
        raise IsoDocumentError(
            "unsupported_message",
            f"unsupported message namespace {namespace!r}; expected "
            "pacs.008, pacs.009 or camt.054, version 001.08 or later",
        )
    kind, version = match.group(1), int(match.group(2))
    if version < MIN_VERSION:
        raise IsoDocumentError("unsupported_message", f"{kind}.001.{version:02d} is too old; send 001.08 or later")
    doc = _Doc(namespace)
    message_type = f"{kind}.001.{version:02d}"
    root_name = {"pacs.008": "FIToFICstmrCdtTrf", "pacs.009": "FICdtTrf", "camt.054": "BkToCstmrDbtCdtNtfctn"}[kind]
    body = doc.find(document, root_name)
    if body is None:
        raise IsoDocumentError("malformed_message", f"{message_type} without <{root_name}>")
    if kind == "camt.054":
        items, skipped = _camt_items(doc, body, classification)
        return IsoMessage(message_type, tuple(items), tuple(skipped))
    return IsoMessage(message_type, tuple(_pacs_items(doc, body, kind, classification, bank_bic)), ())


def _read_amount(amount: Any, tag: str, fields: dict[str, Any], errors: list[FieldError]) -> None:
    """Amount and currency from an ISO 20022 amount element (`<tag Ccy="...">1.00</tag>`)."""
    if amount is None or not (amount.text or "").strip():
        errors.append(FieldError("#/amount", f"{tag} is missing"))
    else:
        fields["amount"] = _amount_text((amount.text or "").strip())
        fields["currency"] = amount.get("Ccy")
