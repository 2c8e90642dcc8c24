from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsistencyOut(BaseModel):
    """RFC 9162 consistency proof: the tree of `to` leaves extends the tree of `from` leaves.

    The keys are the query's names (`from`, `to`); `from` is a Python keyword, hence the alias.
    """

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: int = Field(alias="from", description="the older tree size")
    to: int = Field(description="the newer tree size")
    hashes: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 section 2.1.4 order")
