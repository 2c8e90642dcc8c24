from __future__ import annotations

import pytest

from settlement_client import errors
from settlement_client.errors import FieldError, Problem, error_for
from settlement_core.problems import FieldError as ServerFieldError
from settlement_core.problems import validation_problem


def test_problem_from_the_servers_document() -> None:
    document = validation_problem([ServerFieldError("#/amount", "amount must be greater than 0")]).body("/v1/events")
    problem = Problem.from_document(document)
    assert problem.status == 422
    assert problem.title == "Validation failed"
    assert problem.instance == "/v1/events"
    assert problem.errors == (FieldError("#/amount", "amount must be greater than 0"),)
    assert problem.describe() == "#/amount: amount must be greater than 0"
    assert problem.document == document


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequest),
        (401, errors.Unauthorized),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (413, errors.PayloadTooLarge),
        (415, errors.UnsupportedMediaType),
        (422, errors.InvalidRequest),
        (429, errors.RateLimited),
        (503, errors.ServiceUnavailable),
        (500, errors.ServerError),
        (418, errors.ProblemError),
    ],
)
def test_error_class_by_status(status: int, cls: type[errors.ProblemError]) -> None:
    exc = error_for(Problem(status, "t", "d"))
    assert type(exc) is cls
    assert exc.status == status
    assert exc.problem.detail == "d"


def test_a_document_without_status_takes_the_http_status() -> None:
    assert Problem.from_document({"title": "x"}, 503).status == 503
