"""pacs.008 / pacs.009: one transaction per `CdtTrfTxInf`.

- event id: references.py (UETR, EndToEndId, TxId, InstrId);
- amount/currency: `IntrBkSttlmAmt`; value date: `IntrBkSttlmDt` of the transaction, else
  of the group header;
- direction: the side of the transfer the bank's registered BIC is on (debtor side =
  outbound); a bank without a registered BIC sends the instructions it produces, so its
  transfers are outbound;
- counterparty country: the other side (parties.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as StdET
from collections.abc import Mapping

from settlement_core.problems import FieldError
from settlement_ingest.iso20022.classification import Classification, Facts
from settlement_ingest.iso20022.parties import Side, bic_of, resolve_country
from settlement_ingest.iso20022.references import encode_reference, first_reference
from settlement_ingest.iso20022.transaction import Transaction, amount_text
from settlement_ingest.iso20022.tree import find, findall, text


def _bic_matches(a: str | None, b: str | None) -> bool:
    # BIC8 and BIC11 ("XXX" = head office) name the same institution.
    return a is not None and b is not None and a[:8].upper() == b[:8].upper()


def _first(*elements: StdET.Element | None) -> StdET.Element | None:
    return next((e for e in elements if e is not None), None)


def purposes(*elements: StdET.Element | None) -> frozenset[str]:
    codes = set()
    for el in elements:
        for path in ("PmtTpInf/CtgyPurp/Cd", "CtgyPurp/Cd", "Purp/Cd"):
            code = text(el, path)
            if code:
                codes.add(code.upper())
    return frozenset(codes)


def account_id(el: StdET.Element | None) -> str | None:
    return text(el, "Id/Othr/Id") or text(el, "Id/IBAN")


def read_pacs(
    body: StdET.Element,
    kind: str,
    classification: Classification,
    bank_bic: str | None,
    known: frozenset[str],
    clearing: Mapping[str, str],
) -> tuple[Transaction, ...]:
    group = find(body, "GrpHdr")
    group_date = text(group, "IntrBkSttlmDt")
    items = []
    for n, tx in enumerate(findall(body, "CdtTrfTxInf"), start=1):
        source = f"/Document/{body.tag}/CdtTrfTxInf[{n}]"
        errors: list[FieldError] = []
        ids = [(k, text(tx, f"PmtId/{k}")) for k in ("UETR", "EndToEndId", "TxId", "InstrId")]
        reference = first_reference(*ids)
        if reference is None:
            errors.append(FieldError("#/event_id", "no PmtId/UETR, EndToEndId, TxId or InstrId"))
        amount_el = find(tx, "IntrBkSttlmAmt")
        raw_amount = (amount_el.text or "").strip() if amount_el is not None else ""
        if not raw_amount:
            errors.append(FieldError("#/amount", "IntrBkSttlmAmt is missing"))
        currency = amount_el.get("Ccy") if amount_el is not None else None
        value_date = text(tx, "IntrBkSttlmDt") or group_date
        if value_date is None:
            errors.append(FieldError("#/value_date", "IntrBkSttlmDt is missing"))

        # pacs.009: the debtor and creditor are institutions themselves.
        fi = kind == "pacs.009"
        debtor = Side(
            _first(
                find(tx, "DbtrAgt"), find(tx, "Dbtr") if fi else None, find(tx, "InstgAgt"), find(group, "InstgAgt")
            ),
            find(tx, "DbtrAcct"),
            find(tx, "Dbtr"),
        )
        creditor = Side(
            _first(
                find(tx, "CdtrAgt"), find(tx, "Cdtr") if fi else None, find(tx, "InstdAgt"), find(group, "InstdAgt")
            ),
            find(tx, "CdtrAcct"),
            find(tx, "Cdtr"),
        )
        direction: str | None = None
        other: Side | None = None
        if bank_bic is None:
            # Without a registered BIC the message is taken as what the bank produces itself:
            # its own payment instruction, i.e. outbound to the creditor's side.
            direction, other = "outbound", creditor
        elif _bic_matches(bic_of(debtor.agent), bank_bic):
            direction, other = "outbound", creditor
        elif _bic_matches(bic_of(creditor.agent), bank_bic):
            direction, other = "inbound", debtor
        else:
            errors.append(
                FieldError("#/direction", f"the bank's BIC {bank_bic} is neither the debtor's nor the creditor's agent")
            )
        resolved = resolve_country(other, known, clearing) if other is not None else None
        country = resolved.country if resolved else None
        own = find(tx, "CdtrAcct" if direction == "inbound" else "DbtrAcct")
        amount = amount_text(raw_amount) if raw_amount else None
        facts = Facts(purposes(tx, group), account_id(own), currency, country)
        categories, unclassified = classification.categories(facts)
        if unclassified is not None:
            errors.append(unclassified)
        original_ids = tuple((k, v) for k, v in ids if v is not None and k != "UETR")
        uetr = text(tx, "PmtId/UETR")
        items.append(
            Transaction(
                source=source,
                reference=reference,
                event_id=encode_reference(reference.value) if reference else None,
                amount=amount,
                currency=currency,
                value_date=value_date,
                direction=direction,
                counterparty_country=country,
                country_source=resolved.source if resolved else None,
                categories=categories,
                uetr=uetr,
                original_ids=original_ids + ((("UETR", uetr),) if uetr else ()),
                errors=tuple(errors),
            )
        )
    return tuple(items)
