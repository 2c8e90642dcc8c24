"""What each public sample in ../shared/iso20022-samples/ says, read from the XML by hand
(not from running the reader): per file, every transaction a bank without a registered BIC
gets counted (its own instructions: outbound, the counterparty the creditor's side), or the
contract reason each is refused for.

Country columns name the element they come from in the message. "ZZ": the message names no
counterparty (no agent, account or address of the other side).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Counted:
    event_id: str
    amount: Decimal
    currency: str
    value_date: str
    direction: str
    country: str


@dataclass(frozen=True)
class Rejected:
    event_id: str
    pointer: str
    reason_code: str  # pacs.002 StsRsnInf/Rsn/Cd


@dataclass(frozen=True)
class Sample:
    counted: tuple[Counted, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    refused: str | None = None  # a whole-document 400: the problem type's slug


FEDNOW_UETR = "8a562c67-ca16-48ba-b074-65581be6f011"
CBPR_7A = "7a562c67-ca16-48ba-b074-65581be6f001"
CBPR_8A = "8a562c67-ca16-48ba-b074-65581be6f001"
CBPR_17 = "174c245f-2682-4291-ad67-2a41e530cd27"
D = Decimal

SAMPLES: dict[str, Sample] = {
    # RequestPayload wrapper, Document without namespace (AppHdr MsgDefIdr pacs.008.001.08);
    # CdtrAgt BICFI DKBVCAVR -> CA.
    "aws_cbpr_pacs008v08_nonamespace.xml": Sample(
        (Counted("b94458f8-1f27-40e9-bf74-b07cbb339439", D("92406.00"), "USD", "2023-05-05", "outbound", "CA"),)
    ),
    # Two booked CRDT entries, ValDt/Dt 2024-03-15, no RltdAgts/RltdPties: country unknown.
    "bs_camt054v11_2entries_EUR.xml": Sample(
        (
            Counted("97ed4827-7b6f-4491-a06f-b548d5a7512d", D("47250.00"), "EUR", "2024-03-15", "inbound", "ZZ"),
            Counted("b1c2d3e4-f5a6-7890-abcd-ef1234567890", D("12500.00"), "EUR", "2024-03-15", "inbound", "ZZ"),
        )
    ),
    # CdtrAgt BNPAFRPPXXX -> FR.
    "bs_pacs008v13_EUR.xml": Sample(
        (Counted("97ed4827-7b6f-4491-a06f-b548d5a7512d", D("47250.00"), "EUR", "2024-03-15", "outbound", "FR"),)
    ),
    # pacs.009 without CdtrAgt: the creditor institution Cdtr BNPAFRPPXXX -> FR.
    "bs_pacs009v12_EUR.xml": Sample(
        (Counted("a3c8e91f-2b4d-4f67-8e9a-bc1234567890", D("5000000.00"), "EUR", "2024-03-15", "outbound", "FR"),)
    ),
    # CdtrAgt DEUTDEFFXXX -> DE.
    "cbpr_c105_pacs008v08_GBP.xml": Sample((Counted(CBPR_7A, D("2450"), "GBP", "2022-10-20", "outbound", "DE"),)),
    "cbpr_c52_pacs008v12_EUR_BtoC.xml": Sample((Counted(CBPR_8A, D("750000"), "EUR", "2020-11-24", "outbound", "DE"),)),
    # CdtrAgt UOVBSGSG -> SG.
    "cbpr_c53_pacs008v08_SGD.xml": Sample((Counted(CBPR_17, D("500000"), "SGD", "2020-08-05", "outbound", "SG"),)),
    # Booked DBIT entry, ValDt/Dt 2020-08-06, TxDtls without RltdAgts: country unknown.
    "cbpr_c5431_camt054v12_JPY.xml": Sample((Counted(CBPR_8A, D("165486600"), "JPY", "2020-08-06", "outbound", "ZZ"),)),
    # CAD is not a configured currency.
    "cbpr_c5641_camt054v12_CAD_noValDt.xml": Sample(rejected=(Rejected(CBPR_7A, "#/currency", "AM03"),)),
    # CdtrAgt HELSFIHHXXX -> FI.
    "cbpr_p211_pacs008v12_EUR.xml": Sample((Counted(CBPR_8A, D("15669.38"), "EUR", "2021-04-09", "outbound", "FI"),)),
    # CdtrAgt HNBAUS51XXX -> US.
    "cbpr_p212_pacs008v12_USD.xml": Sample((Counted(CBPR_17, D("136500"), "USD", "2021-05-11", "outbound", "US"),)),
    # pacs.009 CdtrAgt HELSFIHHXXX -> FI.
    "cbpr_p221_pacs009v11_EUR.xml": Sample(
        (Counted("dab3b64f-092b-4839-b7e9-8f438af50961", D("654489.98"), "EUR", "2020-08-03", "outbound", "FI"),)
    ),
    # CdtrAgt BSCHESMM -> ES.
    "cbpr_p231a_pacs008v12_EUR_AtoD.xml": Sample(
        (Counted(CBPR_7A, D("65784.32"), "EUR", "2022-10-20", "outbound", "ES"),)
    ),
    # The cover's own CdtrAgt BSCHESMM -> ES (the underlying transfer's agents are not the sides).
    "cbpr_p231a_pacs009cov_v11_EUR.xml": Sample(
        (Counted(CBPR_7A, D("65784.32"), "EUR", "2022-10-20", "outbound", "ES"),)
    ),
    "cbpr_p231b_pacs009cov_v11_DKK.xml": Sample(rejected=(Rejected(CBPR_7A, "#/currency", "AM03"),)),
    # CdtrAgt MVBMDE55 -> DE; EndToEndId NOTPROVIDED but a UETR.
    "coreum_pacs008v08_EUR.xml": Sample(
        (Counted("00000000-0000-4000-8000-000000000000", D("39.36"), "EUR", "2020-02-12", "outbound", "DE"),)
    ),
    "coreum_pacs008v08_envelope_EUR.xml": Sample(
        (Counted("00000000-0000-4000-8000-000000000000", D("39.36"), "EUR", "2020-02-12", "outbound", "DE"),)
    ),
    # Message wrapper, signed AppHdr; no UETR: EndToEndId; CdtrAgt GRENCHZZ002 -> CH.
    "coreum_pacs008v09_signed_USD.xml": Sample(
        (Counted("8f01d8db87fa4ef888e223a6f5eef3aa", D("125000"), "USD", "2022-07-18", "outbound", "CH"),)
    ),
    # IntrBkSttlmAmt 0; EndToEndId "ABC/ABC-13679/2015-09-15" percent-encoded.
    "coreum_pacs008v12_zero_amount.xml": Sample(
        rejected=(Rejected("ABC%2FABC-13679%2F2015-09-15", "#/amount", "AM01"),)
    ),
    # DBIT: the other side is RltdAgts/InstdAgt, ClrSysId USABA -> US; date RltdDts/IntrBkSttlmDt.
    "fednow_camt054v08_Sc1Step5.xml": Sample(
        (Counted(FEDNOW_UETR, D("51.74"), "USD", "2023-06-04", "outbound", "US"),)
    ),
    # CRDT: RltdAgts/InstgAgt, USABA -> US.
    "fednow_camt054v08_Sc2Step5.xml": Sample((Counted(FEDNOW_UETR, D("51.74"), "USD", "2023-06-04", "inbound", "US"),)),
    # CdtrAgt ClrSysMmbId USABA -> US.
    "fednow_pacs008v08_Sc1Step1.xml": Sample(
        (Counted(FEDNOW_UETR, D("51.74"), "USD", "2023-06-04", "outbound", "US"),)
    ),
    "fednow_pacs008v08_Var1Purpose.xml": Sample(
        (Counted(FEDNOW_UETR, D("51.74"), "USD", "2023-06-04", "outbound", "US"),)
    ),
    "fednow_pacs008v08_Var4UltimateDebtor.xml": Sample(
        (Counted(FEDNOW_UETR, D("45021.75"), "USD", "2023-06-20", "outbound", "US"),)
    ),
    # No UETR: EndToEndId; pacs.009 without CdtrAgt: Cdtr ClrSysMmbId USABA -> US.
    "fednow_pacs009v08_Sc1Step1.xml": Sample(
        (Counted("Scenario01FIEtoEId001", D("500000"), "USD", "2023-07-13", "outbound", "US"),)
    ),
    # FedwireFundsOutgoing envelope; CdtrAgt USABA with PstlAdr/Ctry US.
    "fedwire_pacs008v08_outgoing_envelope.xml": Sample(
        (Counted(FEDNOW_UETR, D("743.22"), "USD", "2025-01-29", "outbound", "US"),)
    ),
    "fi_camt054v02_6entries.xml": Sample(refused="unsupported-message"),  # camt.054.001.02
    "hvps_c2911_pacs008v12_RON.xml": Sample(rejected=(Rejected(CBPR_17, "#/currency", "AM03"),)),
    # One booked entry of two TxDtls (CHF, not configured): each refused on its own; the
    # second has no UETR, EndToEndId or TxId: its InstrId.
    "postfinance_camt054v08_CHF_batch.xml": Sample(
        rejected=(
            Rejected("b009c997-97b3-4a9c-803c-d645a7276bf0", "#/currency", "AM03"),
            Rejected("1005970-70a75515", "#/currency", "AM03"),
        )
    ),
    "prowide_pacs008v07.xml": Sample(refused="unsupported-message"),  # pacs.008.001.07
    "prowide_pacs009v07.xml": Sample(refused="unsupported-message"),  # pacs.009.001.07
}
