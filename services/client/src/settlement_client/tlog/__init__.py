"""Transparency-log verification a bank runs offline: RFC 9162 Merkle proofs, the receipt leaf
(RFC 8785 JSON), and the C2SP text formats (signed-note, tlog-checkpoint, tlog-proof).

The client owns these because banks install the client alone (it never depends on the
server); the server's log (settlement_core.tlog) imports the same hashing, leaf and formats
from here, so there is one definition of each, and what the server writes is what the bank
checks. Generating proofs and signing live on the server side only.
"""
