"""Request signing, over the whole request as it goes on the wire (docs/ingest-contract.md,
"Signing requests"). Two schemes, one per way a bank is registered:

- `HmacSigner` (banks registered with `--hmac`): HMAC-SHA256 v2,
  `X-Signature: t=<unix>,v2=<hex>` over "v2" LF METHOD LF path LF query LF t LF
  hex(SHA-256(body)), path and query exactly as sent;
- `Ed25519Signer` (banks with a public key registered by `settlementctl bank key
  add-public`): RFC 9421 HTTP Message Signatures covering "@method" "@path" "@query"
  "content-digest" with `created`, `keyid` and `alg="ed25519"`, plus the RFC 9530
  `Content-Digest` (sha-256) of the body. The private key never leaves the bank.

Every attempt of a retry is signed anew (the server accepts 300 s of clock difference).
This module repeats the server's canonical forms on purpose: banks install the client
alone, and tests check that the two agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

SIGNATURE_HEADER = "X-Signature"
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest")


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What is signed: method, the path and query exactly as sent (no leading "?"), body."""

    method: str
    path: str
    query: str
    body: bytes


class Signer(Protocol):
    def headers(self, request: OutgoingRequest, now: int) -> dict[str, str]:
        """The headers to add to `request` sent at `now` (unix seconds)."""
        ...


def canonical_v2(request: OutgoingRequest, timestamp: int) -> bytes:
    return "\n".join(
        (
            "v2",
            request.method.upper(),
            request.path,
            request.query,
            str(timestamp),
            hashlib.sha256(request.body).hexdigest(),
        )
    ).encode()


def hmac_v2(secret: str, request: OutgoingRequest, timestamp: int) -> str:
    """The `X-Signature` value (v2) for `request` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), canonical_v2(request, timestamp), hashlib.sha256).hexdigest()
    return f"t={timestamp},v2={digest}"


@dataclass(frozen=True, slots=True)
class HmacSigner:
    secret: str

    def headers(self, request: OutgoingRequest, now: int) -> dict[str, str]:
        return {SIGNATURE_HEADER: hmac_v2(self.secret, request, now)}


def content_digest(body: bytes) -> str:
    """RFC 9530 `Content-Digest` with sha-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _sf_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_params(covered: tuple[str, ...], created: int, key_id: str, alg: str | None = "ed25519") -> str:
    """The serialised inner list of `Signature-Input` (and the `@signature-params` line)."""
    params = f";created={created};keyid={_sf_string(key_id)}"
    if alg is not None:
        params += f";alg={_sf_string(alg)}"
    return "(" + " ".join(_sf_string(c) for c in covered) + ")" + params


def signature_base(lines: list[tuple[str, str]], params: str) -> bytes:
    """RFC 9421 2.5: `"<component>": <value>` per covered component, then the params line."""
    out = [f'"{name}": {value}' for name, value in lines]
    out.append(f'"@signature-params": {params}')
    return "\n".join(out).encode()


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    private_key: Ed25519PrivateKey
    key_id: str
    label: str = "sig1"

    @classmethod
    def from_pem(cls, pem: bytes, key_id: str, password: bytes | None = None) -> Ed25519Signer:
        key = load_pem_private_key(pem, password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the private key is not an Ed25519 key")
        return cls(key, key_id)

    @classmethod
    def from_file(cls, path: Path, key_id: str, password: bytes | None = None) -> Ed25519Signer:
        return cls.from_pem(path.read_bytes(), key_id, password)

    def headers(self, request: OutgoingRequest, now: int) -> dict[str, str]:
        digest = content_digest(request.body)
        values = {
            "@method": request.method.upper(),
            "@path": request.path or "/",
            "@query": "?" + request.query,
            "content-digest": digest,
        }
        params = signature_params(COVERED_COMPONENTS, now, self.key_id)
        base = signature_base([(c, values[c]) for c in COVERED_COMPONENTS], params)
        signature = base64.b64encode(self.private_key.sign(base)).decode()
        return {
            "Content-Digest": digest,
            "Signature-Input": f"{self.label}={params}",
            "Signature": f"{self.label}=:{signature}:",
        }
