"""Identifier syntax shared by the event contract, the catalogue, the ledger and the APIs.

Use the patterns with `fullmatch` (`$` alone also accepts a trailing newline).
"""

from __future__ import annotations

import re

# An event id is the bank's own text, or an ISO 20022 reference percent-encoded (any
# Max35Text: 35 characters of up to 4 UTF-8 bytes, each byte "%XX", = 420) with the
# reversal suffix ":RVSL" (settlement_ingest.iso20022.references).
MAX_EVENT_ID_LENGTH = 425
EVENT_ID_ALPHABET = "A-Z a-z 0-9 . _ : - %"
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:%-]{1,425}$")
BANK_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
# The counterparty country when the message names none (an ISO 20022 transfer whose other
# side has no BIC, address, clearing-system id or IBAN): ISO 3166-1 user-assigned "ZZ",
# CLDR's "Unknown Region". No rule that needs a foreign or domestic counterparty matches it.
UNKNOWN_COUNTRY = "ZZ"
