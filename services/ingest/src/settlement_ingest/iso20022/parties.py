"""The other side of a transaction and its country.

Resolution order (docs/ingest-contract.md, "Counterparty country"); the first step that
gives an ISO 3166-1 code wins, so a BIC with a test country such as `ZZ` falls through:

1. the other side's agent's BIC, characters 5-6 (`FinInstnId/BICFI`);
2. the agent's postal country (`FinInstnId/PstlAdr/Ctry`);
3. the agent's clearing-system member id: `FinInstnId/ClrSysMmbId/ClrSysId/Cd` through the
   clearing-system table (seeds/clearing_systems.csv: `USABA` and `USPID` -> US, `CNAPS` and
   `CNCIP` (CIPS) -> CN, `GBDSC` -> GB, ...);
4. the IBAN prefix of the other side's account (`CdtrAcct`/`DbtrAcct` `Id/IBAN`);
5. the other party's own postal country (`Cdtr`/`Dbtr` `PstlAdr/Ctry`, or its residence
   `CtryOfRes`; a financial-institution party: its `FinInstnId` as in steps 1-3).

None of them: the country is unknown (`UNKNOWN_COUNTRY`), never guessed.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as StdET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settlement_ingest.iso20022.tree import find, text

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


@dataclass(frozen=True, slots=True)
class Side:
    """The elements that describe one side of a transfer (any may be absent)."""

    agent: StdET.Element | None  # an element holding FinInstnId (DbtrAgt, CdtrAgt, InstgAgt, ...)
    account: StdET.Element | None  # DbtrAcct / CdtrAcct
    party: StdET.Element | None  # Dbtr / Cdtr (a party, or a FI with FinInstnId)


@dataclass(frozen=True, slots=True)
class Resolved:
    country: str | None
    source: str | None  # which step gave it, e.g. "agent ClrSysId USABA"


def load_clearing_systems(path: Path) -> dict[str, str]:
    """code -> country from the seed table (lines starting with # are comments)."""
    with path.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["code"].strip(): row["country"].strip() for row in rows}


def bic_of(agent: StdET.Element | None) -> str | None:
    return text(agent, "FinInstnId/BICFI") or text(agent, "FinInstnId/BIC")


def _institution(
    fin: StdET.Element | None, known: frozenset[str], clearing: Mapping[str, str], what: str
) -> Resolved | None:
    if fin is None:
        return None
    bic = text(fin, "BICFI") or text(fin, "BIC")
    if bic is not None and len(bic) >= 6 and bic[4:6].upper() in known:
        return Resolved(bic[4:6].upper(), f"{what} BIC")
    postal = (text(fin, "PstlAdr/Ctry") or "").upper()
    if postal in known:
        return Resolved(postal, f"{what} PstlAdr/Ctry")
    code = (text(fin, "ClrSysMmbId/ClrSysId/Cd") or "").upper()
    country = clearing.get(code)
    if country is not None and country in known:
        return Resolved(country, f"{what} ClrSysId {code}")
    return None


def resolve_country(side: Side, known: frozenset[str], clearing: Mapping[str, str]) -> Resolved:
    """The other side's country by the module's order; Resolved(None, None) when unknown."""
    found = _institution(find(side.agent, "FinInstnId"), known, clearing, "agent")
    if found is not None:
        return found
    iban = (text(side.account, "Id/IBAN") or "").upper()
    if _IBAN.fullmatch(iban) and iban[:2] in known:
        return Resolved(iban[:2], "account IBAN")
    party = side.party
    if party is not None:
        # camt.054 (.08+) wraps the party as Pty or Agt (Party40Choice).
        inner = find(party, "Pty")
        person = inner if inner is not None else party
        for path in ("PstlAdr/Ctry", "CtryOfRes"):
            country = (text(person, path) or "").upper()
            if country in known:
                return Resolved(country, f"party {path}")
        for fin_path in ("FinInstnId", "Agt/FinInstnId"):
            found = _institution(find(party, fin_path), known, clearing, "party")
            if found is not None:
                return found
    return Resolved(None, None)
