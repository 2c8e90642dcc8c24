"""settlement_core.http_signatures and structured_fields (pure): RFC 9421 signature bases
checked against the RFC's own Ed25519 example (appendix B.2.6, key test-key-ed25519 of
B.1.4), the components we require, Content-Digest (RFC 9530), created/keyid/alg, and that
the client library's signer produces what the server verifies."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from settlement_client.signing import Ed25519Signer, OutgoingRequest
from settlement_core.http_signatures import (
    check_content_digest,
    content_digest,
    signature_base,
    verify_message_signature,
)
from settlement_core.request_signing import RequestParts, SignatureRejected
from settlement_core.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_inner_list,
)

# RFC 9421 appendix B.1.4.
RFC_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# RFC 9421 appendix B.2 test-request, and B.2.6's signature of it.
RFC_REQUEST = RequestParts(
    method="POST",
    path="/foo",
    query="param=Value&Pet=dog",
    authority="example.com",
    headers={
        "host": "example.com",
        "date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",  # noqa: E501 (RFC text)
        "content-length": "18",
        "signature-input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
        "signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",  # noqa: E501 (RFC text)
    },
)
RFC_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    b';created=1618884473;keyid="test-key-ed25519"'
)


def rfc_public_key() -> Ed25519PublicKey:
    key = load_pem_public_key(RFC_PUBLIC_PEM)
    assert isinstance(key, Ed25519PublicKey)
    return key


def rfc_private_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(RFC_PRIVATE_PEM, None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


# -- RFC 9421 B.2.6 ------------------------------------------------------------------------


def test_signature_base_of_rfc_9421_b26_is_the_rfcs() -> None:
    covered = parse_dictionary(RFC_REQUEST.headers["signature-input"])["sig-b26"]
    assert isinstance(covered, InnerList)
    assert signature_base(covered, RFC_REQUEST) == RFC_BASE


def test_rfc_9421_b26_signature_verifies_with_the_rfc_key() -> None:
    signature = parse_dictionary(RFC_REQUEST.headers["signature"])["sig-b26"]
    assert isinstance(signature, Item)
    assert isinstance(signature.value, bytes)
    rfc_public_key().verify(signature.value, RFC_BASE)  # raises InvalidSignature if not
    # Ed25519 is deterministic: signing the base again gives the RFC's bytes.
    assert rfc_private_key().sign(RFC_BASE) == signature.value


def test_rfc_example_is_refused_because_it_does_not_cover_query_and_digest() -> None:
    with pytest.raises(SignatureRejected, match="must cover"):
        verify_message_signature(RFC_REQUEST, b'{"hello": "world"}', {"test-key-ed25519": rfc_public_key()}, 1618884473)


# -- our profile -----------------------------------------------------------------------------

BODY = b"<Document>pacs.008</Document>"
NOW = 1_764_000_000


def signed(method: str, path: str, query: str, body: bytes, now: int = NOW, key_id: str = "bank-key-1") -> RequestParts:
    """A request as the client library signs it, seen by the server."""
    signer = Ed25519Signer(rfc_private_key(), key_id)
    headers = {k.lower(): v for k, v in signer.headers(OutgoingRequest(method, path, query, body), now).items()}
    return RequestParts(method, path, query, "ingest.example", headers)


KEYS = {"bank-key-1": rfc_public_key()}


def test_client_signature_verifies_and_names_its_key() -> None:
    request = signed("POST", "/v1/iso20022", "category=offshore", BODY)
    assert request.headers["signature-input"].startswith(
        'sig1=("@method" "@path" "@query" "content-digest");created=1764000000;keyid="bank-key-1";alg="ed25519"'
    )
    assert verify_message_signature(request, BODY, KEYS, NOW + 300) == "bank-key-1"


def _with(request: RequestParts, **changes: str) -> RequestParts:
    return RequestParts(
        changes.get("method", request.method),
        changes.get("path", request.path),
        changes.get("query", request.query),
        request.authority,
        {**request.headers, **{k.replace("_", "-"): v for k, v in changes.items() if k.startswith("h_")}},
    )


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"query": "category=cross_border_rmb"}, "does not verify"),
        ({"path": "/v1/events"}, "does not verify"),
        ({"method": "PUT"}, "does not verify"),
    ],
)
def test_tampered_request_is_refused(tamper: dict[str, str], reason: str) -> None:
    request = _with(signed("POST", "/v1/iso20022", "category=offshore", BODY), **tamper)
    with pytest.raises(SignatureRejected, match=reason):
        verify_message_signature(request, BODY, KEYS, NOW)


def test_tampered_body_fails_the_digest() -> None:
    request = signed("POST", "/v1/iso20022", "", BODY)
    with pytest.raises(SignatureRejected, match="Content-Digest does not match"):
        verify_message_signature(request, BODY + b" ", KEYS, NOW)


def test_a_recomputed_digest_without_a_new_signature_fails() -> None:
    request = signed("POST", "/v1/events", "", BODY)
    forged = RequestParts(
        request.method, request.path, request.query, "", {**request.headers, "content-digest": content_digest(b"x")}
    )
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_message_signature(forged, b"x", KEYS, NOW)


@pytest.mark.parametrize("skew", [-301, 301])
def test_created_outside_the_window_is_refused(skew: int) -> None:
    with pytest.raises(SignatureRejected, match="window"):
        verify_message_signature(signed("POST", "/v1/events", "", BODY, now=NOW + skew), BODY, KEYS, NOW)


def test_unknown_keyid_and_other_key_are_refused() -> None:
    with pytest.raises(SignatureRejected, match="not a registered key"):
        verify_message_signature(signed("POST", "/v1/events", "", BODY, key_id="other"), BODY, KEYS, NOW)
    stranger = {"bank-key-1": Ed25519PrivateKey.generate().public_key()}
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_message_signature(signed("POST", "/v1/events", "", BODY), BODY, stranger, NOW)


@pytest.mark.parametrize(
    "signature_input",
    [
        'sig1=("@method" "@path" "content-digest");created=1764000000;keyid="bank-key-1"',  # no @query
        'sig1=("@method" "@path" "@query" "content-digest");keyid="bank-key-1"',  # no created
        'sig1=("@method" "@path" "@query" "content-digest");created=1764000000;keyid="bank-key-1";alg="rsa-v1_5-sha256"',  # noqa: E501
        'sig1=("@method" "@path" "@query" "content-digest");created=1764000000;keyid=bank',  # token keyid
        'sig1=("@method" "@path" "@query" "content-digest");created=1764000000;expires=1763999999;keyid="bank-key-1"',
        'sig1=("@method" "@path" "@query" "content-digest" "@query");created=1764000000;keyid="bank-key-1"',
        'sig1=("@method" "@path" "@query" "content-digest" "@query-param";name="a");created=1764000000;keyid="bank-key-1"',  # noqa: E501
        "sig1=(",
        "",
    ],
)
def test_signature_input_outside_the_profile_is_refused(signature_input: str) -> None:
    request = signed("POST", "/v1/events", "", BODY)
    headers = {**request.headers, "signature-input": signature_input}
    with pytest.raises(SignatureRejected):
        verify_message_signature(RequestParts("POST", "/v1/events", "", "", headers), BODY, KEYS, NOW)


def test_missing_signature_headers_are_refused() -> None:
    with pytest.raises(SignatureRejected, match="Signature-Input"):
        verify_message_signature(RequestParts("POST", "/v1/events", "", "", {}), BODY, KEYS, NOW)


def test_content_digest_values() -> None:
    assert content_digest(b"") == "sha-256=:" + base64.b64encode(hashlib.sha256(b"").digest()).decode() + ":"
    check_content_digest("sha-512=:AAAA:, " + content_digest(BODY), BODY)
    for bad in (None, "", "sha-512=:AAAA:", "sha-256=abc", "sha-256=:!!:"):
        with pytest.raises(SignatureRejected):
            check_content_digest(bad, BODY)


# -- RFC 8941 subset ---------------------------------------------------------------------------


def test_structured_dictionary_round_trip() -> None:
    parsed = parse_dictionary('a=("x" "y";p=1);created=5;keyid="k\\"q";flag, b=:AQI=:, c=tok, d, e=?0, f=-3')
    a = parsed["a"]
    assert isinstance(a, InnerList)
    assert [i.value for i in a.items] == ["x", "y"]
    assert a.param("created") == 5
    assert a.param("keyid") == 'k"q'
    assert a.param("flag") is True
    assert serialize_inner_list(a) == '("x" "y";p=1);created=5;keyid="k\\"q";flag'
    assert parsed["b"] == Item(b"\x01\x02", ())
    assert parsed["c"] == Item(Token("tok"), ())
    assert parsed["d"] == Item(True, ())
    assert parsed["e"] == Item(False, ())
    assert parsed["f"] == Item(-3, ())


@pytest.mark.parametrize("header", ['a="unterminated', "a=1.5", "a=(", "a=1,", "A=1", 'a="\\x"', "a=:AQI", "a=1 b=2"])
def test_malformed_structured_fields_raise(header: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(header)
