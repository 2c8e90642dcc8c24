"""Strong ETags over the exact representation, If-None-Match (RFC 9110 §13.1.2), and the
CSV-or-JSON choice of the series reads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Response
from pydantic import BaseModel

# `responses=` of a read that answers JSON or, with Accept: text/csv, CSV, under an ETag.
CSV_OR_JSON: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"},
    304: {"description": "If-None-Match matched the ETag"},
}


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    # Weak comparison is what If-None-Match specifies: W/"x" matches "x".
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def wants_csv(accept: str | None) -> bool:
    return accept is not None and "text/csv" in accept.lower()


def cached_response(body: bytes, media_type: str, if_none_match: str | None) -> Response:
    etag = etag_for(body)
    # Totals differ per key (bank scoping) and per Accept, so shared caches must key on both.
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate", "Vary": "Accept, Authorization"}
    if matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


@dataclass(frozen=True, slots=True)
class SeriesRepresentation:
    """What a series read's request asks of its answer: CSV or JSON, and the ETag it holds."""

    accept: str | None
    if_none_match: str | None

    def respond(self, model: BaseModel, csv: Callable[[], str]) -> Response:
        """The model as JSON, or its CSV rendering (built only when asked for), under an ETag."""
        if wants_csv(self.accept):
            return cached_response(csv().encode(), "text/csv; charset=utf-8", self.if_none_match)
        return cached_response(model.model_dump_json().encode(), "application/json", self.if_none_match)


def series_representation(
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> SeriesRepresentation:
    return SeriesRepresentation(accept, if_none_match)


SeriesRepresentationDep = Annotated[SeriesRepresentation, Depends(series_representation)]
