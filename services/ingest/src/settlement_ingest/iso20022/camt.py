"""camt.054: one transaction per booked entry, or per `TxDtls` of a batch-booked entry.

- only entries with status BOOK count (`Sts/Cd`, `Sts/Prtry` or the bare `Sts` of earlier
  versions); PDNG, INFO and the rest are reported as skipped, not refused;
- an entry with several `NtryDtls/TxDtls` gives one transaction per `TxDtls`, with its own
  amount (`TxDtls/Amt`, else `AmtDtls/TxAmt/Amt`) and indicator (`TxDtls/CdtDbtInd`, else
  the entry's); an entry with at most one `TxDtls` is one transaction of the entry's `Amt`;
- value date: `ValDt/Dt`, `ValDt/DtTm`, the transaction's `RltdDts/IntrBkSttlmDt`, then
  `BookgDt/Dt` or `BookgDt/DtTm` (the date part);
- direction: `CdtDbtInd` CRDT inbound, DBIT outbound; the counterparty is the debtor's side
  of an inbound payment and the creditor's side of an outbound one (parties.py): agent
  `RltdAgts/DbtrAgt` (else `RltdAgts/InstgAgt`) or `RltdAgts/CdtrAgt` (else `InstdAgt`),
  account and party `RltdPties/DbtrAcct`, `Dbtr` or `CdtrAcct`, `Cdtr`;
- `RvslInd` true: the entry reverses the original transaction its references name. Its
  indicator is the opposite of the original's, so the reversal carries the original's
  direction and counterparty, and the id "<original id>:RVSL" with `reverses` = original id.
"""

from __future__ import annotations

import xml.etree.ElementTree as StdET
from collections.abc import Mapping

from settlement_core.problems import FieldError
from settlement_ingest.iso20022.classification import Classification, Facts
from settlement_ingest.iso20022.pacs import account_id, purposes
from settlement_ingest.iso20022.parties import Side, resolve_country
from settlement_ingest.iso20022.references import REVERSAL_SUFFIX, Reference, encode_reference, first_reference
from settlement_ingest.iso20022.transaction import Skipped, Transaction, amount_text
from settlement_ingest.iso20022.tree import find, findall, text

_REFS = ("UETR", "EndToEndId", "TxId", "InstrId", "AcctSvcrRef")


def _status(entry: StdET.Element) -> str | None:
    # camt.054.001.08 moved the status into <Sts><Cd>; earlier versions had the bare code.
    return text(entry, "Sts/Cd") or text(entry, "Sts/Prtry") or text(entry, "Sts")


def _date(el: StdET.Element | None, path: str) -> str | None:
    return text(el, f"{path}/Dt") or ((text(el, f"{path}/DtTm") or "")[:10] or None)


def read_camt(
    body: StdET.Element, classification: Classification, known: frozenset[str], clearing: Mapping[str, str]
) -> tuple[tuple[Transaction, ...], tuple[Skipped, ...]]:
    items: list[Transaction] = []
    skipped: list[Skipped] = []
    for n_ntf, notification in enumerate(findall(body, "Ntfctn"), start=1):
        account = account_id(find(notification, "Acct"))
        for n, entry in enumerate(findall(notification, "Ntry"), start=1):
            source = f"/Document/BkToCstmrDbtCdtNtfctn/Ntfctn[{n_ntf}]/Ntry[{n}]"
            status = _status(entry)
            if (status or "").upper() != "BOOK":
                skipped.append(Skipped(source, f"entry status {status or 'missing'} is not BOOK"))
                continue
            details = [tx for d in findall(entry, "NtryDtls") for tx in findall(d, "TxDtls")]
            if len(details) <= 1:
                tx = details[0] if details else None
                items.append(_transaction(entry, tx, None, source, classification, account, known, clearing))
            else:
                for m, tx in enumerate(details, start=1):
                    items.append(
                        _transaction(entry, tx, m, f"{source}/TxDtls[{m}]", classification, account, known, clearing)
                    )
    return tuple(items), tuple(skipped)


def _reference(entry: StdET.Element, tx: StdET.Element | None, index: int | None) -> Reference | None:
    own = first_reference(*((k, text(tx, f"Refs/{k}")) for k in _REFS))
    if own is not None:
        return own
    entry_ref = first_reference(("NtryRef", text(entry, "NtryRef")), ("AcctSvcrRef", text(entry, "AcctSvcrRef")))
    if entry_ref is None or index is None:
        return entry_ref
    # A batch entry's transaction without its own reference: the entry's, with its position.
    return Reference(f"{entry_ref.kind}/TxDtls", f"{entry_ref.value}/{index}")


def _transaction(
    entry: StdET.Element,
    tx: StdET.Element | None,
    index: int | None,
    source: str,
    classification: Classification,
    account: str | None,
    known: frozenset[str],
    clearing: Mapping[str, str],
) -> Transaction:
    """`account`: the notification's account, i.e. the bank's customer's own account."""
    errors: list[FieldError] = []
    reference = _reference(entry, tx, index)
    reversal = (text(entry, "RvslInd") or "").lower() in ("true", "1")
    event_id: str | None = None
    reverses: str | None = None
    if reference is None:
        errors.append(
            FieldError(
                "#/event_id", "no Refs/UETR, EndToEndId, TxId, InstrId or AcctSvcrRef and no NtryRef or AcctSvcrRef"
            )
        )
    elif reversal:
        reverses = encode_reference(reference.value)
        event_id = reverses + REVERSAL_SUFFIX
    else:
        event_id = encode_reference(reference.value)

    if index is None:
        amount_el = find(entry, "Amt")
        where = "Amt"
    else:
        amount_el = find(tx, "Amt")
        if amount_el is None:  # Element truthiness is "has children": compare with None
            amount_el = find(tx, "AmtDtls/TxAmt/Amt")
        where = "TxDtls/Amt"
    raw_amount = (amount_el.text or "").strip() if amount_el is not None else ""
    if not raw_amount:
        errors.append(FieldError("#/amount", f"{where} is missing"))
    currency = amount_el.get("Ccy") if amount_el is not None else None

    value_date = _date(entry, "ValDt") or text(tx, "RltdDts/IntrBkSttlmDt") or _date(entry, "BookgDt")
    if not value_date:
        errors.append(FieldError("#/value_date", "no ValDt, RltdDts/IntrBkSttlmDt or BookgDt"))

    indicator = ((text(tx, "CdtDbtInd") if index is not None else None) or text(entry, "CdtDbtInd") or "").upper()
    direction: str | None = None
    country: str | None = None
    country_source: str | None = None
    if indicator not in ("CRDT", "DBIT"):
        errors.append(FieldError("#/direction", "CdtDbtInd must be CRDT or DBIT"))
    else:
        credited = indicator == "CRDT"
        if reversal:  # the booking runs opposite to the original transaction
            credited = not credited
        direction = "inbound" if credited else "outbound"
        # The counterparty of an inbound payment is the debtor's side, and vice versa.
        side = "Dbtr" if credited else "Cdtr"
        # Without the party's agent, the agent that instructed an inbound payment or was
        # instructed with an outbound one (FedNow names only these, by routing number).
        agent = find(tx, f"RltdAgts/{side}Agt")
        if agent is None:
            agent = find(tx, "RltdAgts/InstgAgt" if credited else "RltdAgts/InstdAgt")
        other = Side(agent, find(tx, f"RltdPties/{side}Acct"), find(tx, f"RltdPties/{side}"))
        resolved = resolve_country(other, known, clearing)
        country, country_source = resolved.country, resolved.source
    facts = Facts(purposes(tx), account, currency, country)
    categories, unclassified = classification.categories(facts)
    if unclassified is not None:
        errors.append(unclassified)
    uetr = text(tx, "Refs/UETR")
    original_ids = tuple((k, v) for k in _REFS if (v := text(tx, f"Refs/{k}")) is not None)
    if not original_ids and reference is not None:
        original_ids = ((reference.kind, reference.value),)
    return Transaction(
        source=source,
        reference=reference,
        event_id=event_id,
        amount=amount_text(raw_amount) if raw_amount else None,
        currency=currency,
        value_date=value_date,
        direction=direction,
        counterparty_country=country,
        country_source=country_source,
        categories=categories,
        uetr=uetr,
        reverses=reverses,
        original_ids=original_ids,
        errors=tuple(errors),
    )
