"""Typed errors. Every HTTP error of the services is an RFC 9457 problem document; the
exception for its status carries the parsed document, so callers branch on the class and
show `problem.errors` (JSON Pointers into what they sent) to whoever fixes the data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: `pointer` is a JSON Pointer such as `#/amount` or `#/events/3/amount`."""

    pointer: str
    message: str


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem document as the server sent it (`document` keeps every member)."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    instance: str | None = None
    errors: tuple[FieldError, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], status: int | None = None) -> Problem:
        raw_errors = document.get("errors")
        errors = tuple(
            FieldError(str(e.get("pointer", "#")), str(e.get("message", "")))
            for e in (raw_errors if isinstance(raw_errors, list) else [])
            if isinstance(e, Mapping)
        )
        raw_status = document.get("status")
        return cls(
            status=raw_status if isinstance(raw_status, int) else (status or 0),
            title=str(document.get("title", "")),
            detail=str(document.get("detail", "")),
            type=str(document.get("type", "about:blank")),
            instance=document.get("instance") if isinstance(document.get("instance"), str) else None,
            errors=errors,
            document=dict(document),
        )

    def describe(self) -> str:
        """One line for people: the field errors when there are any, else the detail."""
        if self.errors:
            return "; ".join(f"{e.pointer}: {e.message}" for e in self.errors)
        return self.detail or self.title or f"HTTP {self.status}"


class SettlementError(Exception):
    """Base class of everything this library raises."""


class TransportError(SettlementError):
    """The service could not be reached (connection refused, reset, timeout), after retries."""


class ProblemError(SettlementError):
    """The service answered an HTTP error; `problem` is its problem document."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"HTTP {problem.status} {problem.title}: {problem.describe()}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status


class BadRequest(ProblemError):
    """400: the body is not JSON, or the XML is malformed, unsafe or of an unsupported type."""


class Unauthorized(ProblemError):
    """401: missing, unknown or revoked key, or a missing, wrong or expired signature."""


class Forbidden(ProblemError):
    """403: the key may not do this (an operator key cannot write)."""


class NotFound(ProblemError):
    """404."""


class Conflict(ProblemError):
    """409: the event_id was already used with a different body."""


class PayloadTooLarge(ProblemError):
    """413: the body is over the service's limit."""


class UnsupportedMediaType(ProblemError):
    """415."""


class InvalidRequest(ProblemError):
    """422: invalid fields; `problem.errors` lists each one."""


class RateLimited(ProblemError):
    """429 after every retry: over the bank's rate limit."""


class ServiceUnavailable(ProblemError):
    """503 after every retry: Kafka or Redis is unavailable and nothing was accepted."""


class ServerError(ProblemError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidRequest,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_for(problem: Problem) -> ProblemError:
    """The exception class that matches the problem's status."""
    cls = _BY_STATUS.get(problem.status)
    if cls is None:
        cls = ServerError if problem.status >= 500 else ProblemError
    return cls(problem)
