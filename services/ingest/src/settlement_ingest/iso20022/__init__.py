"""ISO 20022 intake: pacs.008, pacs.009 and camt.054 (001.08 and later) read into
transactions, and pacs.002 status reports written back.

One step per module: envelope (safe parsing, wrapper, header, type), references (event ids),
parties (counterparty country), classification (categories), pacs and camt (readers that
return `Transaction` values), status_report (pacs.002.001.11). The mapping is documented in
docs/ingest-contract.md.
"""

from settlement_ingest.iso20022.classification import Classification, Facts, classify
from settlement_ingest.iso20022.envelope import IsoDocumentError
from settlement_ingest.iso20022.message import Reader, TooManyTransactions
from settlement_ingest.iso20022.references import REVERSAL_SUFFIX, encode_reference, reference_of
from settlement_ingest.iso20022.transaction import IsoMessage, Skipped, Transaction

__all__ = [
    "REVERSAL_SUFFIX",
    "Classification",
    "Facts",
    "IsoDocumentError",
    "IsoMessage",
    "Reader",
    "Skipped",
    "TooManyTransactions",
    "Transaction",
    "classify",
    "encode_reference",
    "reference_of",
]
