"""Admission of a body-carrying request: charged and counted before its body is read.

`Admitted("json"|"xml")` is a dependency that each intake route declares before its body
dependency (FastAPI resolves them in that order): it charges the bank's byte bucket with
the request's declared size and holds an in-flight lease until the response is done. A
bank over either limit gets 429 without the server reading, let alone parsing, the body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import Depends, Request

from settlement_core.problems import Problem
from settlement_ingest.deps import BankDep, ResourcesDep
from settlement_ingest.ratelimit import Lease, request_cost


class Admitted:
    def __init__(self, kind: Literal["json", "xml"]) -> None:
        self.kind = kind

    async def __call__(self, request: Request, bank: BankDep, resources: ResourcesDep) -> AsyncIterator[Lease]:
        settings = resources.settings
        limit = settings.max_body_bytes if self.kind == "json" else settings.max_xml_bytes
        try:
            cost = request_cost(request.headers.get("content-length"), limit)
        except ValueError:
            raise Problem(400, "Bad request", "Content-Length is not a number.", "bad-request") from None
        lease = await resources.intake.admit_request(bank, cost)
        try:
            yield lease
        finally:
            await resources.intake.release(lease)


AdmittedJson = Annotated[Lease, Depends(Admitted("json"))]
AdmittedXml = Annotated[Lease, Depends(Admitted("xml"))]
