"""Problem documents are bounded whatever the input (settlement_core.problems)."""

from __future__ import annotations

import json

from settlement_core.problems import (
    MAX_DETAIL_CHARS,
    MAX_ERRORS,
    MAX_MESSAGE_CHARS,
    MAX_POINTER_CHARS,
    FieldError,
    Problem,
    clip,
    validation_problem,
)


def test_clip_marks_what_it_cut() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "abc\u2026"


def test_at_most_max_errors_with_the_total() -> None:
    problem = validation_problem([FieldError(f"#/f{i}", "unknown field") for i in range(90_000)])
    body = problem.body()
    assert len(body["errors"]) == MAX_ERRORS == 50
    assert body["errors"][0] == {"pointer": "#/f0", "message": "unknown field"}
    assert body["error_count"] == 90_000
    assert body["errors_truncated"] is True
    assert len(json.dumps(body)) < 4_000


def test_few_errors_are_all_listed() -> None:
    body = validation_problem([FieldError("#/amount", "bad")]).body()
    assert body["errors"] == [{"pointer": "#/amount", "message": "bad"}]
    assert body["error_count"] == 1
    assert body["errors_truncated"] is False


def test_no_errors_no_members() -> None:
    body = Problem(400, "Malformed JSON", "nope").body()
    assert "errors" not in body
    assert "error_count" not in body


def test_a_smaller_bound_for_batch_items() -> None:
    body = validation_problem([FieldError(f"#/f{i}", "x") for i in range(12)]).body(max_errors=0)
    assert body["errors"] == []
    assert body["error_count"] == 12
    assert body["errors_truncated"] is True


def test_long_pointers_messages_details_and_instances_are_cut() -> None:
    problem = Problem(422, "t", "d" * 10_000, "validation", [FieldError("#/" + "x" * 10_000, "m" * 10_000)])
    body = problem.body("/" + "i" * 10_000)
    assert len(body["detail"]) == MAX_DETAIL_CHARS + 1
    assert len(body["instance"]) == MAX_POINTER_CHARS + 1
    [error] = body["errors"]
    assert len(error["pointer"]) == MAX_POINTER_CHARS + 1
    assert len(error["message"]) == MAX_MESSAGE_CHARS + 1
    assert len(json.dumps(body)) < 2_000
