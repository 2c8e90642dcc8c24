"""RFC 9457 problem details for every 4xx/5xx of the HTTP services.

`Problem` is raised anywhere in a request; `install_problem_handlers` renders it, FastAPI's
validation errors and unhandled errors as `application/problem+json`. Validation errors carry
`errors: [{pointer, message}]` with JSON Pointers (RFC 6901) into the request body or to
`#/query/<name>` for query parameters.

A problem document is bounded whatever the input: at most `MAX_ERRORS` entries (with
`error_count`, the total, and `errors_truncated`), and every pointer, message and detail is
cut to a fixed length, so a request never gets its own input echoed back at scale (a 1 MB
batch of unknown fields answered 6.3 MB before these bounds; see docs/security/intake.md).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from settlement_core.errors import Retryable

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://settlement-tracker.invalid/problems/"

# 50 entries cover every field of an event several times over (an event has 10 fields);
# beyond that a client needs the count, not more of the same.
MAX_ERRORS = 50
# Pointers carry field names the client chose and messages may quote values: both are cut
# to these many characters (plus an ellipsis), so one entry stays under ~0.6 KB.
MAX_POINTER_CHARS = 160
MAX_MESSAGE_CHARS = 300
MAX_DETAIL_CHARS = 600


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit] + "\u2026"


@dataclass(frozen=True, slots=True)
class FieldError:
    pointer: str
    message: str


@dataclass
class Problem(Exception):
    status: int
    title: str
    detail: str
    slug: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self, instance: str | None = None, max_errors: int = MAX_ERRORS) -> dict[str, Any]:
        """The problem+json document; at most `max_errors` entries of `errors`."""
        body: dict[str, Any] = {
            "type": self.slug if self.slug == "about:blank" else TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": clip(self.detail, MAX_DETAIL_CHARS),
        }
        if instance:
            body["instance"] = clip(instance, MAX_POINTER_CHARS)
        if self.errors:
            shown = self.errors[: max(0, max_errors)]
            body["errors"] = [
                {"pointer": clip(e.pointer, MAX_POINTER_CHARS), "message": clip(e.message, MAX_MESSAGE_CHARS)}
                for e in shown
            ]
            body["error_count"] = len(self.errors)
            body["errors_truncated"] = len(shown) < len(self.errors)
        body.update(self.extra)
        return body


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance), status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON
    )


def pointer_for(loc: tuple[Any, ...] | list[Any]) -> str:
    """Pydantic error location -> JSON Pointer (#/field/0/sub, or #/query/name)."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
        prefix = "#"
    elif parts and parts[0] in ("query", "path", "header"):
        prefix = "#/" + str(parts[0])
        parts = parts[1:]
    else:
        prefix = "#"
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return prefix + ("/" + "/".join(escaped) if escaped else "")


def validation_problem(errors: list[FieldError], detail: str = "The request has invalid fields.") -> Problem:
    return Problem(422, "Validation failed", detail, "validation", errors)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(pointer_for(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()]
        return problem_response(validation_problem(errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
        problem = Problem(
            exc.status_code, titles.get(exc.status_code, "HTTP error"), str(exc.detail), headers=dict(exc.headers or {})
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client left, or the server closed a body that stalled (http_timeouts): nobody
        # reads this answer; 499 (nginx's "client closed request") keeps it apart in metrics.
        logger.info("client disconnected before the request was read", extra={"path": request.url.path})
        return problem_response(Problem(499, "Client closed request", "The request body did not arrive."))

    @app.exception_handler(Retryable)
    async def _unavailable(request: Request, exc: Retryable) -> JSONResponse:
        # A dependency outage that reached no route-specific answer: the client may retry.
        logger.warning("dependency unavailable", extra={"path": request.url.path, "error": str(exc)[:300]})
        problem = Problem(
            503, "Service unavailable", "A dependency is unavailable; retry shortly.", headers={"Retry-After": "1"}
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(Problem(500, "Internal error", "An unexpected error occurred."), request.url.path)


# -- OpenAPI: the problem document and the error responses of an operation --------------

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; validation problems list each bad field in `errors`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "message"],
                "properties": {
                    "pointer": {"type": "string", "description": "JSON Pointer: #/field, #/events/3/x, #/query/name"},
                    "message": {"type": "string"},
                },
            },
            "maxItems": MAX_ERRORS,
        },
        "error_count": {"type": "integer", "minimum": 1, "description": "How many errors there were in all"},
        "errors_truncated": {"type": "boolean", "description": "True when `errors` lists only the first ones"},
    },
    # Some problems carry more members (readiness `checks`, `max_points`).
    "additionalProperties": True,
}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed body (not JSON, unusable XML)",
    401: "Missing, unknown or revoked key (or a bad signature)",
    403: "The key may not do this",
    404: "Not found, or not visible to this key",
    409: "The event_id is already used by a different event",
    413: "The body is over the size limit",
    415: "Unsupported Content-Type",
    422: "Invalid fields or parameters; `errors` lists each",
    429: "Over the rate limit; retry after Retry-After seconds",
    503: "A dependency is unavailable; nothing was accepted; retry after Retry-After seconds",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer realm"}},
    429: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "description": "seconds"}},
    503: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "description": "seconds"}},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` entries for these error statuses, all `application/problem+json`.

    `install_problem_schema` adds the referenced component to the document.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses


def install_problem_schema(document: dict[str, Any]) -> None:
    """Adds the Problem component; drops FastAPI's unused validation-error components."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    if '"#/components/schemas/HTTPValidationError"' not in json.dumps(document.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
