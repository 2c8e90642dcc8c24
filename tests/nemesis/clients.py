"""Banks that record a history: each sends single events, batches and ISO 20022 pacs.008
messages over HTTP, plus at a bounded rate duplicates (an acknowledged request sent again),
reversals and corrections (a reversal and a new event with the right amount) of its own
acknowledged events. Every attempt is one history line (tests/nemesis/history.py); what was
not acknowledged is retried with the same event ids until it is, so the checker can hold
the ledger to exactly the acknowledged set. CNY only: the oracle needs no FX."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.nemesis.history import ACKNOWLEDGED, Recorder, Request, Sent

CATEGORIES = ("cross_border_rmb", "factor_market")
VALUE_DATE = "2020-06-15"  # read back with as_of 2020-12-31
COUNTERPARTY_BIC = "DBSSSGSGXXX"  # Singapore: the counterparty country of every ISO transfer
# A request in flight past this gets no answer ("error"): long enough for a slow answer
# under a 2 s latency toxic, short enough that a paused ingest does not stall a bank.
REQUEST_TIMEOUT_S = 10.0
RETRY_PAUSE_S = 0.5


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of each operation; the rest of the time a bank sends a batch."""

    single: float = 0.35
    iso: float = 0.15
    duplicate: float = 0.05
    reversal: float = 0.04
    correction: float = 0.02
    pause_s: float = 0.25  # between operations, per bank


@dataclass(slots=True)
class BankClient:
    bank: str
    key: str
    bic: str
    ingest_url: str
    recorder: Recorder
    seed: int
    mix: Mix = field(default_factory=Mix)
    give_up_s: float = 600.0
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    _rng: random.Random = field(init=False)
    _seq: int = 0
    _acked: list[dict[str, str]] = field(default_factory=list)  # JSON bodies of acked originals
    _reversed: set[str] = field(default_factory=set)
    _sent_ok: list[tuple[str, Any, tuple[Sent, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.ingest_url,
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=REQUEST_TIMEOUT_S,
            ) as client:
                while not self.stop.is_set():
                    self._one(client)
                    time.sleep(self.mix.pause_s)
        except BaseException as exc:  # reported by the campaign
            self.error = exc

    # ---------------------------------------------------------------- operations
    def _one(self, client: httpx.Client) -> None:
        roll = self._rng.random()
        m = self.mix
        if roll < m.duplicate and self._sent_ok:
            kind, body, events = self._rng.choice(self._sent_ok)
            self._until_acknowledged(client, kind, body, events, remember=False)
        elif roll < m.duplicate + m.reversal and self._unreversed():
            self._reverse(client, correct=False)
        elif roll < m.duplicate + m.reversal + m.correction and self._unreversed():
            self._reverse(client, correct=True)
        elif roll < m.duplicate + m.reversal + m.correction + m.single:
            body = self._event()
            self._until_acknowledged(client, "single", body, (self._sent(body),))
        elif roll < m.duplicate + m.reversal + m.correction + m.single + m.iso:
            self._iso(client)
        else:
            bodies = [self._event() for _ in range(self._rng.randint(2, 20))]
            self._until_acknowledged(client, "batch", bodies, tuple(self._sent(b) for b in bodies))

    def _unreversed(self) -> list[dict[str, str]]:
        return [b for b in self._acked if b["event_id"] not in self._reversed]

    def _reverse(self, client: httpx.Client, *, correct: bool) -> None:
        original = self._rng.choice(self._unreversed())
        self._reversed.add(original["event_id"])
        body = {**original, "event_id": original["event_id"] + ":R", "reverses": original["event_id"]}
        self._until_acknowledged(client, "single", body, (self._sent(body),), remember=False)
        if correct:
            fixed = {**original, "event_id": original["event_id"] + ":C", "amount": self._amount()}
            self._until_acknowledged(client, "single", fixed, (self._sent(fixed),))

    def _amount(self) -> str:
        return str(Decimal(self._rng.randint(1, 10_000_000)) / 100)

    def _event(self) -> dict[str, str]:
        self._seq += 1
        return {
            "event_id": f"{self.bank}-{self._seq}",
            "category": self._rng.choice(CATEGORIES),
            "amount": self._amount(),
            "currency": "CNY",
            "value_date": VALUE_DATE,
            "direction": self._rng.choice(("inbound", "outbound")),
            "counterparty_country": "SG",
        }

    @staticmethod
    def _sent(body: dict[str, str]) -> Sent:
        return Sent(body["event_id"], body["category"], Decimal(body["amount"]), body.get("reverses"))

    def _iso(self, client: httpx.Client) -> None:
        category = self._rng.choice(CATEGORIES)
        transfers = [
            (str(uuid.UUID(int=self._rng.getrandbits(128), version=4)), self._amount())
            for _ in range(self._rng.randint(1, 5))
        ]
        xml = pacs008(self.bic, f"{self.bank}-MSG-{self._seq}-{len(transfers)}", transfers)
        self._seq += 1
        events = tuple(Sent(uetr, category, Decimal(amount)) for uetr, amount in transfers)
        self._until_acknowledged(client, "iso", (xml, category), events)
        # ISO transfers are acknowledged originals a bank may reverse (outbound, SG, as read).
        for uetr, amount in transfers:
            self._acked.append(
                {
                    "event_id": uetr,
                    "category": category,
                    "amount": amount,
                    "currency": "CNY",
                    "value_date": VALUE_DATE,
                    "direction": "outbound",
                    "counterparty_country": "SG",
                }
            )

    # ---------------------------------------------------------------- sending
    def _post(self, client: httpx.Client, kind: str, body: Any) -> httpx.Response:
        if kind == "single":
            return client.post("/v1/events", json=body)
        if kind == "batch":
            return client.post("/v1/events/batch", json={"events": body})
        xml, category = body
        return client.post(
            "/v1/iso20022",
            params={"category": category},
            content=xml.encode(),
            headers={"Content-Type": "application/xml"},
        )

    def _until_acknowledged(
        self, client: httpx.Client, kind: str, body: Any, events: tuple[Sent, ...], *, remember: bool = True
    ) -> None:
        """Send, then resend what was not acknowledged (same ids, same bodies) until it is.
        A batch or message is resent whole: the acknowledged items answer duplicate."""
        deadline = time.monotonic() + self.give_up_s
        attempt = 0
        while True:
            attempt += 1
            started = time.time()
            try:
                response: httpx.Response | None = self._post(client, kind, body)
            except httpx.HTTPError:
                response = None
            outcomes = _outcomes(kind, response, len(events))
            self.recorder.write(
                Request(
                    self.bank,
                    kind,
                    started,
                    time.time(),
                    response.status_code if response is not None else 0,
                    events,
                    outcomes,
                    attempt,
                ).as_json()
            )
            if "rejected" in outcomes:
                # A valid event refused: the checker counts it (history); resending the
                # same body would be refused again.
                return
            if all(o in ACKNOWLEDGED for o in outcomes):
                if remember:
                    self._sent_ok.append((kind, body, events))
                    if kind != "iso":
                        for item in body if kind == "batch" else [body]:
                            if "reverses" not in item:
                                self._acked.append(item)
                return
            if time.monotonic() > deadline:
                return  # the checker sees it unacknowledged; it must then not be counted
            time.sleep(RETRY_PAUSE_S)


def _outcomes(kind: str, response: httpx.Response | None, n: int) -> tuple[str, ...]:
    if response is None:
        return ("error",) * n
    status = response.status_code
    if status in (503, 502, 504):
        return ("unavailable",) * n
    if status == 429:
        return ("throttled",) * n
    if status >= 500:
        return ("server_error",) * n  # never the answer to a fault (503 is): the checker counts it
    if kind == "single":
        if status == 202:
            return ("accepted",)
        if status == 200 and response.json().get("duplicate"):
            return ("duplicate",)
        return ("rejected",)
    if status != 200:
        return ("rejected",) * n
    results = response.json()["results"]
    out = []
    for result in results:
        if result["status"] in ACKNOWLEDGED:
            out.append(result["status"])
        elif (result.get("problem") or {}).get("status") == 503:
            out.append("unavailable")
        elif (result.get("problem") or {}).get("status", 0) >= 500:
            out.append("server_error")
        else:
            out.append("rejected")
    return tuple(out)


def pacs008(bic: str, msg_id: str, transfers: list[tuple[str, str]]) -> str:
    """A pacs.008.001.08 of outbound CNY transfers from `bic` to a Singapore bank, each
    identified by its UETR (which becomes its event id)."""
    txs = "".join(
        f"""
    <CdtTrfTxInf>
      <PmtId><EndToEndId>NOTPROVIDED</EndToEndId><TxId>{uetr[:30]}</TxId><UETR>{uetr}</UETR></PmtId>
      <IntrBkSttlmAmt Ccy="CNY">{amount}</IntrBkSttlmAmt>
      <IntrBkSttlmDt>{VALUE_DATE}</IntrBkSttlmDt>
      <ChrgBr>SHAR</ChrgBr>
      <Dbtr><Nm>Nemesis Exporter</Nm></Dbtr>
      <DbtrAgt><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><BICFI>{COUNTERPARTY_BIC}</BICFI></FinInstnId></CdtrAgt>
      <Cdtr><Nm>Singapore Importer</Nm></Cdtr>
    </CdtTrfTxInf>"""
        for uetr, amount in transfers
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>{msg_id[:35]}</MsgId>
      <CreDtTm>2020-06-15T09:30:00+08:00</CreDtTm>
      <NbOfTxs>{len(transfers)}</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>{txs}
  </FIToFICstmrCdtTrf>
</Document>
"""
