"""RFC 9457 problem details for every 4xx/5xx of the HTTP services.

`Problem` is raised anywhere in a request; `install_problem_handlers` renders it, FastAPI's
validation errors and unhandled errors as `application/problem+json`. Validation errors carry
`errors: [{pointer, message}]` with JSON Pointers (RFC 6901) into the request body or to
`#/query/<name>` for query parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://settlement-tracker.invalid/problems/"


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

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.slug if self.slug == "about:blank" else TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [{"pointer": e.pointer, "message": e.message} for e in self.errors]
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

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(Problem(500, "Internal error", "An unexpected error occurred."), request.url.path)
