"""HMAC request signatures (`X-Signature`) for banks that share a secret with the service.

v2 (the default) signs the whole request, so a captured request cannot be replayed to
another path or with another query string (audit finding M2: a signed ISO 20022 request
replayed with a different `?category=` was counted under the new categories):

    X-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(secret, canonical)>
    canonical = "v2" LF METHOD LF path LF query LF t LF hex(SHA-256(body))

`path` is the request path exactly as sent on the wire (percent-encoding kept, no query);
`query` is the raw query string exactly as sent, without the leading "?", empty when there
is none. Nothing is decoded or re-ordered: the bytes the server received are the bytes the
client signed, so two parties can never disagree on a normal form. LF is "\\n"; METHOD is
upper case. The timestamp must be within the window (300 s) of the server's clock.

v1 (`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`) covers only the timestamp and
the body; it is verified only where a setting allows it (ingest HMAC_V1_ALLOWED, off by
default). A header carrying a v2 value is judged by v2 alone.

This module is pure: the caller supplies the secrets, the clock and the request parts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SIGNATURE_HEADER = "X-Signature"
SIGNATURE_WINDOW_S = 300


class SignatureRejected(Exception):
    """The request's signature is missing, malformed, expired or does not match (a 401)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RequestParts:
    """What a signature can cover besides the body, as received (nothing decoded).

    `headers` maps lower-case field names to their values (repeated fields joined by ", ")."""

    method: str
    path: str
    query: str
    authority: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


def canonical_v2(request: RequestParts, timestamp: int, body: bytes) -> bytes:
    """The exact bytes a v2 signature is computed over."""
    return "\n".join(
        ("v2", request.method.upper(), request.path, request.query, str(timestamp), hashlib.sha256(body).hexdigest())
    ).encode()


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_v2(secret: str, request: RequestParts, timestamp: int, body: bytes) -> str:
    """The `X-Signature` value a client sends (v2)."""
    return f"t={timestamp},v2={_hmac_hex(secret, canonical_v2(request, timestamp, body))}"


def sign_v1(secret: str, timestamp: int, body: bytes) -> str:
    """The legacy `X-Signature` value (v1: timestamp and body only)."""
    return f"t={timestamp},v1={_hmac_hex(secret, str(timestamp).encode() + b'.' + body)}"


def _any_matches(expected: Sequence[str], candidates: Sequence[str]) -> bool:
    # Compare every pair (no early exit) so timing tells nothing about which one matched.
    matched = False
    for want in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(want.encode(), candidate.encode())
    return matched


def verify_hmac(
    secrets: Sequence[str],
    header: str | None,
    request: RequestParts,
    body: bytes,
    now: float,
    *,
    window_s: int = SIGNATURE_WINDOW_S,
    v1_allowed: bool = False,
) -> None:
    """Accept the request if its `X-Signature` matches one of `secrets` (during a rotation's
    overlap a bank has two); raises SignatureRejected otherwise."""
    if not header:
        raise SignatureRejected("Missing X-Signature header; this bank must sign its requests.")
    timestamp: int | None = None
    v1: list[str] = []
    v2: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1":
            v1.append(value.strip().lower())
        elif name == "v2":
            v2.append(value.strip().lower())
    if timestamp is None or not (v1 or v2):
        raise SignatureRejected("X-Signature must look like 't=<unix seconds>,v2=<hex hmac>'.")
    if abs(now - timestamp) > window_s:
        raise SignatureRejected(f"X-Signature timestamp is outside the {window_s} s window.")
    if v2:
        message = canonical_v2(request, timestamp, body)
        if not _any_matches([_hmac_hex(s, message) for s in secrets], v2):
            raise SignatureRejected(
                "X-Signature v2 does not match the request (method, path, query string, timestamp, body)."
            )
        return
    if not v1_allowed:
        raise SignatureRejected(
            "X-Signature v1 covers only the body and is not accepted; sign method, path, query and body with v2."
        )
    message = str(timestamp).encode() + b"." + body
    if not _any_matches([_hmac_hex(s, message) for s in secrets], v1):
        raise SignatureRejected("X-Signature does not match the request body.")
