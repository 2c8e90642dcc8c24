"""Read one ISO 20022 message into transactions (the package's entry point)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settlement_core.catalogue import IsoSignal, load_catalogue
from settlement_ingest.iso20022.camt import read_camt
from settlement_ingest.iso20022.classification import Classification
from settlement_ingest.iso20022.envelope import Envelope, read_envelope
from settlement_ingest.iso20022.pacs import read_pacs
from settlement_ingest.iso20022.parties import load_clearing_systems
from settlement_ingest.iso20022.transaction import IsoMessage


class TooManyTransactions(ValueError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} transactions")
        self.count = count


def count_transactions(envelope: Envelope) -> int:
    """Transactions the readers would return, counted cheaply (an upper bound for camt.054:
    entries not booked are counted too)."""
    if envelope.kind != "camt.054":
        return len(envelope.body.findall("CdtTrfTxInf"))
    return sum(max(1, len(entry.findall("NtryDtls/TxDtls"))) for entry in envelope.body.iterfind("Ntfctn/Ntry"))


@dataclass(frozen=True, slots=True)
class Reader:
    """What reading needs besides the message: the ISO 3166-1 codes a country may be, and
    the clearing-system table (seeds/clearing_systems.csv), the classification signals."""

    countries: frozenset[str]
    clearing_systems: Mapping[str, str]
    signals: tuple[IsoSignal, ...]  # the catalogue's classification signals

    @classmethod
    def from_seeds(cls, targets_file: Path, countries: frozenset[str]) -> Reader:
        """The catalogue's signals, and the clearing-system table beside it."""
        signals = load_catalogue(targets_file).iso_signals
        return cls(countries, load_clearing_systems(targets_file.parent / "clearing_systems.csv"), signals)

    def read(
        self, raw: bytes, classification: Classification, bank_bic: str | None, max_transactions: int | None = None
    ) -> IsoMessage:
        """Raises IsoDocumentError for the whole-document 400s, TooManyTransactions (before
        reading any transaction) when the message has more than `max_transactions`."""
        envelope = read_envelope(raw)
        if max_transactions is not None:
            count = count_transactions(envelope)
            if count > max_transactions:
                raise TooManyTransactions(count)
        if envelope.kind == "camt.054":
            items, skipped = read_camt(envelope.body, classification, self.countries, self.clearing_systems)
            return IsoMessage(envelope.message_type, envelope.message_id, items, skipped)
        items = read_pacs(envelope.body, envelope.kind, classification, bank_bic, self.countries, self.clearing_systems)
        return IsoMessage(envelope.message_type, envelope.message_id, items, ())
