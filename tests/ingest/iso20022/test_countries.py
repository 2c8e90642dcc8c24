"""The clearing-system table against ISO's list, and CIPS/CNAPS shapes (no public CNY
message exists, so these small ones are written here from the CBPR+/CIPS usage: agents known
by CNAPS bank codes or CIPS participant ids, no BIC)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from settlement_core.catalogue import load_catalogue
from settlement_ingest.iso20022 import Classification, Reader
from settlement_ingest.iso20022.parties import load_clearing_systems
from settlement_ingest.validation import COUNTRY_CODES
from tests.support.shared import CODES_DIR

ROOT = Path(__file__).resolve().parents[3]
SIGNALS = load_catalogue(ROOT / "seeds" / "targets.yaml").iso_signals
TABLE = load_clearing_systems(ROOT / "seeds" / "clearing_systems.csv")
READER = Reader.from_seeds(ROOT / "seeds" / "targets.yaml", COUNTRY_CODES)


def test_the_table_has_every_code_of_isos_list_with_the_country_it_begins_with() -> None:
    codes = json.loads((CODES_DIR / "external_clearing_system_identification_code.json").read_text())["codes"]
    assert set(TABLE) == set(codes)
    assert all(TABLE[code] == code[:2] for code in codes)
    # The ones the issue names, by their descriptions in ISO's list.
    assert (TABLE["USABA"], TABLE["USPID"], TABLE["CNAPS"], TABLE["CNCIP"]) == ("US", "US", "CN", "CN")
    assert "CIPS" in codes["CNCIP"]
    assert "China" in codes["CNAPS"]
    # Every code but Kosovo's user-assigned XK is an ISO 3166-1 country.
    assert {c for c in TABLE.values() if c not in COUNTRY_CODES} == {"XK"}


def _pacs008(creditor_agent: str, debtor_agent: str, creditor: str = "", account: str = "") -> bytes:
    ns = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{ns}"><FIToFICstmrCdtTrf>
  <GrpHdr><MsgId>CIPS-TEST-1</MsgId><CreDtTm>2026-11-02T10:00:00+08:00</CreDtTm><NbOfTxs>1</NbOfTxs>
    <SttlmInf><SttlmMtd>CLRG</SttlmMtd><ClrSys><Prtry>CIPS</Prtry></ClrSys></SttlmInf></GrpHdr>
  <CdtTrfTxInf>
    <PmtId><InstrId>CIPS 0001</InstrId><EndToEndId>人民币/跨境/0001</EndToEndId></PmtId>
    <IntrBkSttlmAmt Ccy="CNY">880000.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-02</IntrBkSttlmDt>
    <ChrgBr>SHAR</ChrgBr>
    <Dbtr><Nm>重庆某进出口有限公司</Nm></Dbtr>
    <DbtrAgt><FinInstnId>{debtor_agent}</FinInstnId></DbtrAgt>
    <CdtrAgt><FinInstnId>{creditor_agent}</FinInstnId></CdtrAgt>
    <Cdtr><Nm>Creditor</Nm>{creditor}</Cdtr>{account}
  </CdtTrfTxInf>
</FIToFICstmrCdtTrf></Document>""".encode()


def _member(code: str, member: str) -> str:
    return f"<ClrSysMmbId><ClrSysId><Cd>{code}</Cd></ClrSysId><MmbId>{member}</MmbId></ClrSysMmbId>"


CNAPS = _member("CNAPS", "313653000013")  # a 12-digit CNAPS bank code
CIPS = _member("CNCIP", "C1234567890")  # an 11-character CIPS participant id


@pytest.mark.parametrize(
    ("creditor_agent", "creditor", "account", "country", "how"),
    [
        (CIPS, "", "", "CN", "agent ClrSysId CNCIP"),
        (_member("HKNCC", "004"), "", "", "HK", "agent ClrSysId HKNCC"),
        (_member("SGIBG", "7171"), "", "", "SG", "agent ClrSysId SGIBG"),
        ("<BICFI>DBSSSGSGXXX</BICFI>" + CIPS, "", "", "SG", "agent BIC"),  # the BIC comes first
        ("<PstlAdr><Ctry>HK</Ctry></PstlAdr>" + CIPS, "", "", "HK", "agent PstlAdr/Ctry"),
        (_member("XXXXX", "1"), "", "<CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>", "DE", None),
        ("<Nm>Some bank</Nm>", "<PstlAdr><Ctry>SG</Ctry></PstlAdr>", "", "SG", "party PstlAdr/Ctry"),
        ("<Nm>Some bank</Nm>", "<CtryOfRes>GB</CtryOfRes>", "", "GB", "party CtryOfRes"),
        ("<Nm>Some bank</Nm>", "", "", None, None),
    ],
)
def test_cips_and_cnaps_shapes_follow_the_same_order(
    creditor_agent: str, creditor: str, account: str, country: str | None, how: str | None
) -> None:
    raw = _pacs008(creditor_agent, CNAPS, creditor, account)
    [tx] = READER.read(raw, Classification((), "CN", SIGNALS), None).items
    assert tx.counterparty_country == country
    if how is not None:
        assert tx.country_source == how
    assert tx.event_id == "%E4%BA%BA%E6%B0%91%E5%B8%81%2F%E8%B7%A8%E5%A2%83%2F0001"
    assert (tx.amount, tx.currency, tx.direction) == ("880000", "CNY", "outbound")
    # CNY to a foreign counterparty is cross-border RMB; to a domestic (CIPS participant in
    # China) or an unknown one it is not, and nothing else classifies it.
    if country in (None, "CN"):
        assert tx.categories == ()
        assert [e.pointer for e in tx.errors] == ["#/categories"]
        assert tx.fields()["counterparty_country"] == (country or "ZZ")
    else:
        assert tx.categories == ("cross_border_rmb",)


def test_a_bank_known_by_its_bic_is_matched_against_agents_known_only_by_member_id() -> None:
    # Agents with only CNAPS/CIPS ids cannot be matched to the bank's registered BIC.
    raw = _pacs008(CIPS, CNAPS)
    [tx] = READER.read(raw, Classification(("factor_market",), "CN", SIGNALS), "CQRCCNBJ").items
    assert [e.pointer for e in tx.errors] == ["#/direction"]
    [tx] = READER.read(raw, Classification(("factor_market",), "CN", SIGNALS), None).items
    assert (tx.errors, tx.counterparty_country) == ((), "CN")
