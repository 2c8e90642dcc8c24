from __future__ import annotations

from pydantic import BaseModel, Field


class ConsistencyOut(BaseModel):
    """RFC 9162 consistency proof: the tree of `second` leaves extends the tree of `first`."""

    first: int = Field(description="the older tree size")
    second: int = Field(description="the newer tree size")
    hashes: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 section 2.1.4 order")
