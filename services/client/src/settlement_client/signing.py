"""Request signing for banks registered with `--hmac`.

`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`; the server
accepts a timestamp within 300 s of its clock, so every attempt of a retry is signed anew.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Signature` header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
