"""pacs.002.001.11 answers: schema-valid for every outcome shape, reason codes from ISO's list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from settlement_ingest.iso20022 import IsoMessage, Skipped, Transaction
from settlement_ingest.iso20022.references import Reference
from settlement_ingest.iso20022.status_report import ALL_CODES, Finding, TxStatus, reason_for, write_report
from tests.ingest.iso20022.pacs002 import parse_report, status_reason_codes, transaction_status_codes

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def tx(ids: tuple[tuple[str, str], ...]) -> Transaction:
    first = ids[0] if ids else ("EndToEndId", "x")
    return Transaction(
        source="/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]",
        reference=Reference(*first),
        event_id="x",
        amount="1",
        currency="USD",
        value_date="2026-11-02",
        direction="outbound",
        counterparty_country=None,
        country_source=None,
        categories=("factor_market",),
        original_ids=ids,
    )


def test_every_code_used_is_in_isos_external_status_reason_list() -> None:
    assert status_reason_codes() >= ALL_CODES
    assert {"ACTC", "RJCT"} <= transaction_status_codes()


@pytest.mark.parametrize(
    ("pointer", "message", "code"),
    [
        ("#/currency", "currency must be one of CNY, EUR", "AM03"),
        ("#/amount", "amount must be greater than 0", "AM01"),
        ("#/amount", "amount exceeds the maximum of 1000", "AM02"),
        ("#/amount", "USD allows at most 2 decimal places", "AM12"),
        ("#/value_date", "value_date must be between", "DT01"),
        ("#/direction", "the bank's BIC X is neither", "RC05"),
        ("#/categories", "could not be classified", "FF07"),
        ("#/event_id", "no PmtId/UETR", "FF08"),
        ("#/reverses", "something else", "NARR"),
    ],
)
def test_reason_codes_by_pointer(pointer: str, message: str, code: str) -> None:
    assert reason_for(Finding(pointer, message))[0] == code


def test_a_report_of_every_outcome_validates_against_the_official_schema() -> None:
    uetr = "eb6305c9-1f7f-49de-aed0-16487c27b42d"
    message = IsoMessage(
        "camt.054.001.08",
        "M" * 36,  # longer than Max35Text: reported as NOTPROVIDED
        (
            tx((("UETR", uetr), ("EndToEndId", "ABC/1"), ("InstrId", "I-1"), ("TxId", "T-1"))),
            tx((("EndToEndId", "E" * 40),)),  # too long for the schema: left out
            tx((("UETR", "EB6305C9-1F7F-19DE-AED0-16487C27B42D"), ("AcctSvcrRef", "ACCT-1"))),  # not a v4 UUID
            tx(()),
        ),
        (Skipped("/Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[2]", "entry status PDNG is not BOOK"),),
    )
    outcomes = [
        TxStatus("accepted", None, ()),
        TxStatus("duplicate", None, ()),
        TxStatus(
            "rejected",
            "validation",
            (Finding("#/currency", "currency must be one of CNY " + "x" * 200), Finding("#/amount", "bad")),
        ),
        TxStatus("rejected", "conflict", (Finding("#", "event_id 'x' was already received with a different body"),)),
    ]
    report = parse_report(write_report(message, outcomes, NOW))  # raises on any schema violation
    assert (report.original_message_id, report.original_type, report.group_status) == (
        "NOTPROVIDED",
        "camt.054.001.08",
        "PART",
    )
    first, second, third, fourth = report.transactions
    assert first.ids == {
        "OrgnlInstrId": "I-1",
        "OrgnlEndToEndId": "ABC/1",
        "OrgnlTxId": "T-1",
        "OrgnlUETR": uetr,
    }
    assert (first.status, first.reasons) == ("ACTC", ())
    assert (second.status, second.reasons, second.ids) == ("ACTC", ("DUPL",), {})
    assert (third.status, third.reasons) == ("RJCT", ("AM03", "AM12"))
    assert third.info[0].startswith("#/currency: currency must be one of CNY")
    assert len(third.info[0]) == 105
    assert (fourth.status, fourth.reasons) == ("RJCT", ("DU03",))


def test_group_status_of_all_rejected_and_of_no_transactions() -> None:
    message = IsoMessage("pacs.008.001.08", "MSG-1", (tx((("EndToEndId", "A"),)),), ())
    rejected = parse_report(
        write_report(message, [TxStatus("rejected", "validation", (Finding("#/value_date", "x"),))], NOW)
    )
    assert (rejected.group_status, rejected.transactions[0].reasons) == ("RJCT", ("DT01",))
    empty = parse_report(write_report(IsoMessage("camt.054.001.08", None, (), ()), [], NOW))
    assert (empty.group_status, empty.transactions, empty.original_message_id) == ("ACTC", (), "NOTPROVIDED")
