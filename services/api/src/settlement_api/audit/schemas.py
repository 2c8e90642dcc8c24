from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description='"cli:<user>" for settlementctl, "operator:<name>" for API reads.')
    action: str = Field(description="e.g. bank.add, bank.hmac.rotate, operator.key.revoke, operator.read")
    subject: str = Field(description="The bank id, operator name or request path acted on.")
    detail: dict[str, object] = Field(description="Never a secret or key: key ids, overlaps, query parameters.")


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")
