"""The server side of the transparency log over the ledger (issue 29): the Merkle tree and
its proofs (RFC 9162), the log's signing keys, signed checkpoints and receipt promises.

Hashing, the leaf, the text formats and all verification are the client's
(settlement_client.tlog), imported from there so the bank checks exactly what is written here.
"""
