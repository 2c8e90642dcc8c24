"""RFC 9421 HTTP Message Signatures with Ed25519, and the RFC 9530 `Content-Digest` they
cover, verified for banks that registered a public key (`settlementctl bank key add-public`):
the service holds no secret that could sign as such a bank.

A request is accepted when one of the labels of its `Signature-Input` / `Signature` fields

- covers at least `"@method" "@path" "@query" "content-digest"` (REQUIRED_COMPONENTS);
- has `created` within the window of the server's clock (and `expires`, if any, not passed),
  `keyid` naming one of the bank's registered keys, and `alg` absent or "ed25519";
- carries an Ed25519 signature of the signature base (RFC 9421 section 2.5) that verifies;

and the `Content-Digest` field carries a `sha-256` digest equal to the body's (other
algorithms in the field are ignored; sha-256 is what we require).

Derived components are taken as received: `@path` is the path as sent (percent-encoding
kept, "/" when empty), `@query` is "?" plus the raw query string ("?" when there is none),
`@authority` the Host header lower-cased. Components with parameters (`;sf`, `;key`,
`@query-param;name=...`) are refused rather than half-supported.

Pure: the caller supplies the keys, the clock and the request parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from settlement_core.request_signing import SIGNATURE_WINDOW_S, RequestParts, SignatureRejected
from settlement_core.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_inner_list,
)

REQUIRED_COMPONENTS = ("@method", "@path", "@query", "content-digest")
ALGORITHM = "ed25519"


def content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value for `body` (sha-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def check_content_digest(header: str | None, body: bytes) -> None:
    if not header:
        raise SignatureRejected("Missing Content-Digest header (RFC 9530, sha-256).")
    try:
        members = parse_dictionary(header)
    except StructuredFieldError as exc:
        raise SignatureRejected(f"Content-Digest is not a structured dictionary: {exc}.") from None
    digest = members.get("sha-256")
    if not isinstance(digest, Item) or not isinstance(digest.value, bytes):
        raise SignatureRejected("Content-Digest must carry a sha-256 byte sequence.")
    if not hmac.compare_digest(digest.value, hashlib.sha256(body).digest()):
        raise SignatureRejected("Content-Digest does not match the body.")


def component_value(name: str, request: RequestParts) -> str:
    """The value of one covered component (RFC 9421 2.1 and 2.2)."""
    if name == "@method":
        return request.method.upper()
    if name == "@path":
        return request.path or "/"
    if name == "@query":
        return "?" + request.query
    if name == "@authority":
        return request.authority.lower()
    if name.startswith("@"):
        raise SignatureRejected(f"Covered component {name!r} is not supported.")
    value = request.headers.get(name)
    if value is None:
        raise SignatureRejected(f"Covered header {name!r} is not in the request.")
    return value.strip()


def signature_base(covered: InnerList, request: RequestParts) -> bytes:
    """RFC 9421 2.5: one line per covered component, then `@signature-params`."""
    lines: list[str] = []
    seen: set[str] = set()
    for item in covered.items:
        if not isinstance(item.value, str) or isinstance(item.value, Token):
            raise SignatureRejected("Covered components must be strings.")
        if item.params:
            raise SignatureRejected(f"Component parameters on {item.value!r} are not supported.")
        name = item.value
        if name != name.lower() or name in seen or name == "@signature-params":
            raise SignatureRejected(f"Covered component {name!r} is malformed or repeated.")
        seen.add(name)
        lines.append(f'"{name}": {component_value(name, request)}')
    lines.append(f'"@signature-params": {serialize_inner_list(covered)}')
    return "\n".join(lines).encode()


def _parse(request: RequestParts) -> tuple[dict[str, Item | InnerList], dict[str, Item | InnerList]]:
    inputs_header = request.headers.get("signature-input")
    signatures_header = request.headers.get("signature")
    if not inputs_header or not signatures_header:
        raise SignatureRejected(
            "This bank signs with Ed25519: send Signature-Input and Signature (RFC 9421) and Content-Digest."
        )
    try:
        return parse_dictionary(inputs_header), parse_dictionary(signatures_header)
    except StructuredFieldError as exc:
        raise SignatureRejected(f"Signature-Input or Signature is malformed: {exc}.") from None


def _check_label(
    covered: InnerList,
    signature: Item | InnerList | None,
    request: RequestParts,
    body: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    now: float,
    window_s: int,
) -> str:
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise SignatureRejected("Signature has no byte sequence for this label.")
    names = {item.value for item in covered.items}
    missing = [c for c in REQUIRED_COMPONENTS if c not in names]
    if missing:
        raise SignatureRejected(f"The signature must cover {' '.join(REQUIRED_COMPONENTS)}; missing {missing}.")
    created = covered.param("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureRejected("Signature-Input needs an integer created parameter.")
    if abs(now - created) > window_s:
        raise SignatureRejected(f"The signature's created time is outside the {window_s} s window.")
    expires = covered.param("expires")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool) or expires < now):
        raise SignatureRejected("The signature has expired.")
    alg = covered.param("alg")
    if alg is not None and alg != ALGORITHM:
        raise SignatureRejected(f'Only alg="{ALGORITHM}" is accepted.')
    keyid = covered.param("keyid")
    if not isinstance(keyid, str) or isinstance(keyid, Token):
        raise SignatureRejected("Signature-Input needs a keyid string parameter.")
    key = keys.get(keyid)
    if key is None:
        raise SignatureRejected(f"keyid {keyid!r} is not a registered key of this bank.")
    check_content_digest(request.headers.get("content-digest"), body)
    try:
        key.verify(signature.value, signature_base(covered, request))
    except InvalidSignature:
        raise SignatureRejected("The Ed25519 signature does not verify over the request.") from None
    return keyid


def verify_message_signature(
    request: RequestParts,
    body: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    now: float,
    *,
    window_s: int = SIGNATURE_WINDOW_S,
) -> str:
    """The keyid of the first label that passes every check; raises SignatureRejected with
    the reason the last label failed when none does."""
    inputs, signatures = _parse(request)
    reason = "Signature-Input has no signature."
    for label, covered in inputs.items():
        if not isinstance(covered, InnerList):
            reason = f"Signature-Input label {label!r} is not an inner list."
            continue
        try:
            return _check_label(covered, signatures.get(label), request, body, keys, now, window_s)
        except SignatureRejected as exc:
            reason = exc.detail
    raise SignatureRejected(reason)
