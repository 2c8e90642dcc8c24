"""Strong ETags over the exact representation, and If-None-Match (RFC 9110 §13.1.2)."""

from __future__ import annotations

import hashlib

from fastapi import Response


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    # Weak comparison is what If-None-Match specifies: W/"x" matches "x".
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def cached_response(body: bytes, media_type: str, if_none_match: str | None) -> Response:
    etag = etag_for(body)
    # Totals differ per key (bank scoping) and per Accept, so shared caches must key on both.
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate", "Vary": "Accept, Authorization"}
    if matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)
