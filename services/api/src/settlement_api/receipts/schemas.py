from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsistencyOut(BaseModel):
    """RFC 9162 consistency proof: the tree of `to` leaves extends the tree of `from`."""

    model_config = ConfigDict(populate_by_name=True)

    from_size: int = Field(alias="from", description="the older tree size")
    to_size: int = Field(alias="to", description="the newer tree size")
    hashes: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 section 2.1.4 order")
