"""settlement_client.signing: the client's HMAC v2 and Ed25519 signatures are exactly what
the server verifies (the client repeats the canonical forms; banks install it alone)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from settlement_client.signing import Ed25519Signer, HmacSigner, OutgoingRequest, canonical_v2, hmac_v2
from settlement_core.http_signatures import verify_message_signature
from settlement_core.request_signing import RequestParts, SignatureRejected, sign_v2, verify_hmac
from settlement_core.request_signing import canonical_v2 as server_canonical_v2

BODY = b'{"event_id":"E1"}'
OUT = OutgoingRequest("POST", "/v1/iso20022", "category=offshore", BODY)
SEEN = RequestParts("POST", "/v1/iso20022", "category=offshore")


def test_hmac_v2_is_the_servers_scheme() -> None:
    assert canonical_v2(OUT, 1_764_000_000) == server_canonical_v2(SEEN, 1_764_000_000, BODY)
    assert hmac_v2("s3cret", OUT, 1_764_000_000) == sign_v2("s3cret", SEEN, 1_764_000_000, BODY)
    headers = HmacSigner("s3cret").headers(OUT, 1_764_000_000)
    verify_hmac(["s3cret"], headers["X-Signature"], SEEN, BODY, now=1_764_000_100)


def test_hmac_v2_binds_the_query_the_body_and_the_secret() -> None:
    header = hmac_v2("s3cret", OUT, 1_764_000_000)
    with pytest.raises(SignatureRejected):
        verify_hmac(
            ["s3cret"], header, RequestParts("POST", "/v1/iso20022", "category=cross_border_rmb"), BODY, 1_764_000_000
        )
    with pytest.raises(SignatureRejected):
        verify_hmac(["s3cret"], header, SEEN, b"b", now=1_764_000_000)
    with pytest.raises(SignatureRejected):
        verify_hmac(["other"], header, SEEN, BODY, now=1_764_000_000)


def test_ed25519_signer_is_verified_by_the_server() -> None:
    private = Ed25519PrivateKey.generate()
    headers = {k.lower(): v for k, v in Ed25519Signer(private, "k1").headers(OUT, 1_764_000_000).items()}
    seen = RequestParts("POST", "/v1/iso20022", "category=offshore", "ingest", headers)
    assert verify_message_signature(seen, BODY, {"k1": private.public_key()}, 1_764_000_010) == "k1"
    replayed = RequestParts("POST", "/v1/iso20022", "category=cross_border_rmb", "ingest", headers)
    with pytest.raises(SignatureRejected):
        verify_message_signature(replayed, BODY, {"k1": private.public_key()}, 1_764_000_010)
