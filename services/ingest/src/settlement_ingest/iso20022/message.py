"""Read one ISO 20022 message into transactions (the package's entry point)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settlement_ingest.iso20022.camt import read_camt
from settlement_ingest.iso20022.classification import Classification
from settlement_ingest.iso20022.envelope import read_envelope
from settlement_ingest.iso20022.pacs import read_pacs
from settlement_ingest.iso20022.parties import load_clearing_systems
from settlement_ingest.iso20022.transaction import IsoMessage


@dataclass(frozen=True, slots=True)
class Reader:
    """What reading needs besides the message: the ISO 3166-1 codes a country may be, and
    the clearing-system table (seeds/clearing_systems.csv)."""

    countries: frozenset[str]
    clearing_systems: Mapping[str, str]

    @classmethod
    def from_seeds(cls, seeds_dir: Path, countries: frozenset[str]) -> Reader:
        return cls(countries, load_clearing_systems(seeds_dir / "clearing_systems.csv"))

    def read(self, raw: bytes, classification: Classification, bank_bic: str | None) -> IsoMessage:
        """Raises IsoDocumentError for the whole-document 400s."""
        envelope = read_envelope(raw)
        if envelope.kind == "camt.054":
            items, skipped = read_camt(envelope.body, classification, self.countries, self.clearing_systems)
            return IsoMessage(envelope.message_type, envelope.message_id, items, skipped)
        items = read_pacs(envelope.body, envelope.kind, classification, bank_bic, self.countries, self.clearing_systems)
        return IsoMessage(envelope.message_type, envelope.message_id, items, ())
