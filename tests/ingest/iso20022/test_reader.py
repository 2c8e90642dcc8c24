"""Pure tests of the ISO 20022 mapping and of the XML hardening (no servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_core.catalogue import load_catalogue
from settlement_ingest.iso20022 import Classification, Facts, IsoDocumentError, Reader, classify
from settlement_ingest.validation import COUNTRY_CODES

ROOT = Path(__file__).resolve().parents[3]
SIGNALS = load_catalogue(ROOT / "seeds" / "targets.yaml").iso_signals
SAMPLES = ROOT / "tests" / "ingest" / "samples"
BANK_BIC = "CQRCCNBJ"
read_message = Reader.from_seeds(ROOT / "seeds" / "targets.yaml", COUNTRY_CODES).read


def given(*codes: str) -> Classification:
    """The ?category= query of the request (empty: classify from the message)."""
    return Classification(tuple(sorted(codes)), "CN", SIGNALS)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_pacs008_every_transfer_becomes_an_event_with_direction_from_the_bic_side() -> None:
    message = read_message(sample("pacs008_three_transfers.xml"), given("offshore"), BANK_BIC)
    assert message.message_type == "pacs.008.001.08"
    assert [item.errors for item in message.items] == [(), (), ()]
    first, second, third = (item.fields() for item in message.items)
    assert first == {
        "categories": ["offshore"],
        "event_id": "8a562c67-ca16-48ba-b074-65581be6f011",
        "uetr": "8a562c67-ca16-48ba-b074-65581be6f011",
        "amount": "1500000",
        "currency": "CNY",
        "value_date": "2026-11-02",
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    # No UETR: EndToEndId; the bank is the creditor's agent (BIC8 matches BIC11).
    assert second["event_id"] == "E2E-0002"
    assert second["direction"] == "inbound"
    assert second["counterparty_country"] == "HK"
    assert second["amount"] == "250000"
    assert second["currency"] == "USD"
    # EndToEndId NOTPROVIDED: TxId; date from the group header; country from PstlAdr.
    assert third["event_id"] == "TX-0003"
    assert third["value_date"] == "2026-11-01"
    assert third["counterparty_country"] == "JP"
    assert third["currency"] == "JPY"
    assert message.items[2].source == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[3]"


def test_pacs008_missing_amount_is_an_item_error_not_a_document_error() -> None:
    message = read_message(sample("pacs008_one_bad_transfer.xml"), given("offshore"), BANK_BIC)
    assert message.message_type == "pacs.008.001.10"
    assert message.items[0].errors == ()
    assert [e.pointer for e in message.items[1].errors] == ["#/amount"]


def test_pacs_without_registered_bic_is_the_banks_own_outbound_instruction() -> None:
    message = read_message(sample("pacs008_three_transfers.xml"), given("offshore"), None)
    assert [item.errors for item in message.items] == [(), (), ()]
    assert [(i.fields()["direction"], i.fields()["counterparty_country"]) for i in message.items] == [
        ("outbound", "SG"),
        ("outbound", "CN"),
        ("outbound", "JP"),
    ]


def test_pacs_with_a_foreign_bic_is_rejected_per_item() -> None:
    message = read_message(sample("pacs008_three_transfers.xml"), given("offshore"), "ABCDUS33")
    assert all("ABCDUS33" in item.errors[0].message for item in message.items)


def test_pacs009_uses_the_financial_institutions_as_sides() -> None:
    message = read_message(sample("pacs009_two_transfers.xml"), given("factor_market"), BANK_BIC)
    assert message.message_type == "pacs.009.001.08"
    out, into = (item.fields() for item in message.items)
    assert (out["direction"], out["counterparty_country"]) == ("outbound", "SG")
    assert (into["direction"], into["counterparty_country"]) == ("inbound", "GB")


def test_camt054_books_only_booked_entries_and_maps_the_reversal() -> None:
    message = read_message(sample("camt054_booked_pending_reversal.xml"), given("cross_border_rmb"), None)
    assert message.message_type == "camt.054.001.08"
    assert len(message.items) == 3
    assert [s.source for s in message.skipped] == ["/Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[2]"]
    assert "PDNG" in message.skipped[0].reason
    booked, reversal, debit = (item.fields() for item in message.items)
    uetr = "3f2c8f0e-7a51-4d6b-9d8e-0c7b1a2e4f60"
    assert booked == {
        "categories": ["cross_border_rmb"],
        "event_id": uetr,
        "uetr": uetr,
        "amount": "800000",
        "currency": "CNY",
        "value_date": "2026-11-04",
        "direction": "inbound",
        "counterparty_country": "HK",
    }
    # The reversal is booked as a debit but negates the inbound original.
    assert reversal["event_id"] == uetr + ":RVSL"
    assert reversal["reverses"] == uetr
    assert reversal["direction"] == "inbound"
    assert reversal["counterparty_country"] == "HK"
    assert reversal["amount"] == booked["amount"]
    assert debit["event_id"] == "E2E-C-0004"
    assert debit["direction"] == "outbound"
    assert debit["counterparty_country"] == "DE"
    assert debit["amount"] == "12000.5"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("xxe.xml", "unsafe_xml"),
        ("billion_laughs.xml", "unsafe_xml"),
        ("malformed.xml", "malformed_xml"),
        ("pacs008_version_07.xml", "unsupported_message"),
    ],
)
def test_unusable_documents_are_refused_whole(name: str, reason: str) -> None:
    with pytest.raises(IsoDocumentError) as caught:
        read_message(sample(name), given("offshore"), BANK_BIC)
    assert caught.value.reason == reason


def test_external_entity_content_never_reaches_the_result() -> None:
    with pytest.raises(IsoDocumentError) as caught:
        read_message(sample("xxe.xml"), given("offshore"), BANK_BIC)
    assert "root:" not in caught.value.detail


def test_camt_entry_without_transaction_references_uses_the_entry_reference() -> None:
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.09"
    body = f"""<Document xmlns="{ns}"><BkToCstmrDbtCdtNtfctn><Ntfctn><Ntry>
      <NtryRef>REF-77</NtryRef><Amt Ccy="HKD">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <Sts><Cd>BOOK</Cd></Sts><ValDt><DtTm>2026-11-04T10:00:00+08:00</DtTm></ValDt>
      <NtryDtls><TxDtls><RltdAgts><DbtrAgt><FinInstnId><BICFI>HSBCHKHH</BICFI></FinInstnId>
      </DbtrAgt></RltdAgts></TxDtls></NtryDtls></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn>
      </Document>""".encode()
    [item] = read_message(body, given("offshore"), None).items
    assert item.errors == ()
    assert (item.fields()["event_id"], item.fields()["value_date"], item.fields()["amount"]) == (
        "REF-77",
        "2026-11-04",
        "10",
    )


def test_camt_entry_without_counterparty_agent_is_counted_with_an_unknown_country() -> None:
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
    body = f"""<Document xmlns="{ns}"><BkToCstmrDbtCdtNtfctn><Ntfctn><Ntry>
      <NtryRef>REF-78</NtryRef><Amt Ccy="HKD">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
      <Sts>BOOK</Sts><ValDt><Dt>2026-11-04</Dt></ValDt></Ntry></Ntfctn>
      </BkToCstmrDbtCdtNtfctn></Document>""".encode()
    [item] = read_message(body, given("offshore"), None).items
    assert item.errors == ()
    assert item.counterparty_country is None
    assert item.fields()["direction"] == "outbound"
    assert item.fields()["counterparty_country"] == "ZZ"


def test_unknown_namespace_is_unsupported() -> None:
    body = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>'
    with pytest.raises(IsoDocumentError, match=r"no pacs\.008, pacs\.009 or camt\.054 business element"):
        read_message(body, given("offshore"), BANK_BIC)


def test_document_inside_an_envelope_with_application_header_is_found() -> None:
    inner = sample("pacs009_two_transfers.xml").split(b"?>", 1)[1]
    wrapped = b'<Envelope><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"/>' + inner + b"</Envelope>"
    assert len(read_message(wrapped, given("offshore"), BANK_BIC).items) == 2


# ---------------------------------------------------------------- categories


def test_repeated_query_categories_apply_to_every_item() -> None:
    message = read_message(sample("pacs008_three_transfers.xml"), given("offshore", "mnc_headquarters"), BANK_BIC)
    assert [item.fields()["categories"] for item in message.items] == [["mnc_headquarters", "offshore"]] * 3


def test_classification_from_the_message() -> None:
    message = read_message(sample("pacs008_classified.xml"), given(), BANK_BIC)
    assert [item.fields().get("categories") for item in message.items] == [
        ["mnc_headquarters"],  # CtgyPurp INTC: a cash-pool transfer, USD with Hong Kong
        ["cross_border_ecommerce", "cross_border_rmb"],  # Purp ECPG in CNY with a Singapore merchant
        ["offshore"],  # the bank's customer's OSA account, USD
        ["cross_border_rmb"],  # CNY with a foreign counterparty, no purpose code
        None,  # USD with a domestic counterparty and no code: not classified
    ]
    assert [e.pointer for item in message.items for e in item.errors] == ["#/categories"]
    assert "?category=" in message.items[4].errors[0].message


def test_classification_of_a_camt054() -> None:
    message = read_message(sample("camt054_booked_pending_reversal.xml"), given(), None)
    # CNY from Hong Kong: cross-border RMB, for the original and its reversal alike.
    assert [item.fields()["categories"] for item in message.items[:2]] == [["cross_border_rmb"]] * 2
    # EUR to Germany without a code or an offshore account: not guessed.
    assert [e.pointer for e in message.items[2].errors] == ["#/categories"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (Facts(frozenset({"CASH"}), None, "CNY", "CN"), ("mnc_headquarters",)),
        (Facts(frozenset({"SWEP"}), None, "USD", "HK"), ("mnc_headquarters",)),
        (Facts(frozenset({"LIMA"}), None, "CNY", "HK"), ("cross_border_rmb", "mnc_headquarters")),
        (Facts(frozenset({"ECPU"}), None, "USD", "US"), ("cross_border_ecommerce",)),
        (Facts(frozenset({"RETL"}), None, "USD", "CN"), ()),  # domestic retail is not cross-border
        (Facts(frozenset(), "osa1234567", "USD", "SG"), ("offshore",)),
        (Facts(frozenset(), "NRA1234567", "USD", "SG"), ()),
        (Facts(frozenset(), None, "CNY", None), ()),  # counterparty unknown: not assumed foreign
    ],
)
def test_classify(facts: Facts, expected: tuple[str, ...]) -> None:
    assert classify(facts, "CN", SIGNALS) == expected
