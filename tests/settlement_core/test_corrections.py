"""settlement_core.corrections: the code list as data, intake's rules on the three fields
and the topic decoder's shape check (pure, no I/O beyond reading a YAML file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_core.corrections import (
    MAX_REASON_TEXT,
    NO_REASONS,
    ReasonFileError,
    Reference,
    check_reference,
    check_shape,
    load_reason_codes,
)
from tests.conftest import ROOT

REASONS = load_reason_codes(ROOT / "seeds" / "correction_reasons.yaml")


def test_the_shipped_list_has_the_stable_codes_and_their_rules() -> None:
    assert sorted(REASONS.codes) == ["DUPLICATE", "OTHER", "WRONG_AMOUNT", "WRONG_CATEGORY", "WRONG_DATE"]
    assert [c for c, r in REASONS.codes.items() if r.text_required] == ["OTHER"]
    assert [c for c, r in REASONS.codes.items() if not r.correction] == ["DUPLICATE"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("WRONG-AMOUNT: {label: x, correction: true, text_required: false}\n", "upper-case code"),
        ("wrong_amount: {label: x, correction: true, text_required: false}\n", "upper-case code"),
        ("WRONG_AMOUNT: {label: x, correction: yes please, text_required: false}\n", "correction"),
        ("WRONG_AMOUNT: {label: x, correction: true}\n", "text_required"),
        ("WRONG_AMOUNT: {label: x, correction: true, text_required: false, extra: 1}\n", "extra"),
        ("{}\n", "no codes"),
        ("[\n", "not valid YAML"),
    ],
)
def test_a_bad_file_names_what_is_wrong(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "correction_reasons.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReasonFileError, match=why.split()[0]) as info:
        load_reason_codes(path)
    assert str(path) in str(info.value)


def check(**fields: object) -> tuple[Reference, list[tuple[str, str]]]:
    values = {"reverses": None, "corrects": None, "reason_code": None, "reason_text": None} | fields
    return check_reference(
        "EV-2", values["reverses"], values["corrects"], values["reason_code"], values["reason_text"], REASONS
    )


def test_accepted_references() -> None:
    assert check() == (Reference(None, None, None), [])
    assert check(corrects="EV-1", reason_code="WRONG_DATE") == (Reference("EV-1", "WRONG_DATE", None), [])
    assert check(corrects="EV-1", reason_code="OTHER", reason_text="re-keyed") == (
        Reference("EV-1", "OTHER", "re-keyed"),
        [],
    )
    # A reversal may carry a reason (DUPLICATE is a reversal's); the reverses field is validation's.
    assert check(reverses="EV-1", reason_code="DUPLICATE") == (Reference(None, "DUPLICATE", None), [])


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"corrects": "EV-1"}, ["reason_code"]),
        ({"corrects": "EV-1", "reason_code": "TYPO"}, ["reason_code"]),
        ({"corrects": "EV-1", "reason_code": "DUPLICATE"}, ["reason_code"]),
        ({"corrects": "EV-1", "reason_code": "OTHER"}, ["reason_text"]),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": " \u3000 "}, ["reason_text"]),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": "x" * (MAX_REASON_TEXT + 1)}, ["reason_text"]),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": "a\u202eb"}, ["reason_text"]),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": "\ud800"}, ["reason_text"]),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": 7}, ["reason_text"]),
        ({"corrects": "EV-2", "reason_code": "WRONG_DATE"}, ["corrects"]),
        ({"corrects": "a b", "reason_code": "WRONG_DATE"}, ["corrects"]),
        ({"corrects": "EV-1", "reverses": "EV-1", "reason_code": "WRONG_DATE"}, ["corrects"]),
        ({"reason_code": "WRONG_DATE"}, ["reason_code"]),
        ({"reason_text": "why"}, ["reason_text"]),
    ],
)
def test_refused_references_name_their_field(fields: dict[str, object], errors: list[str]) -> None:
    reference, found = check(**fields)
    assert [name for name, _ in found] == errors
    assert reference.corrects is None or "corrects" not in errors


def test_without_a_list_no_correction_is_accepted() -> None:
    _, errors = check_reference("EV-2", None, "EV-1", "WRONG_AMOUNT", None, NO_REASONS)
    assert [name for name, _ in errors] == ["reason_code"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, None),
        ({"corrects": "EV-1", "reason_code": "RETIRED_CODE"}, None),  # the list is intake's, not the decoder's
        ({"reverses": "EV-1", "reason_code": "DUPLICATE", "reason_text": "sent twice"}, None),
        ({"corrects": "EV-1"}, "a correction without reason_code"),
        ({"corrects": "EV-1", "reverses": "EV-0", "reason_code": "OTHER"}, "both reverses and corrects"),
        ({"corrects": "a b", "reason_code": "OTHER"}, "bad corrects"),
        ({"corrects": "EV-1", "reason_code": "lower"}, "bad reason_code"),
        ({"reason_code": "OTHER"}, "reason_code without reverses or corrects"),
        ({"corrects": "EV-1", "reason_code": "OTHER", "reason_text": "two\nlines"}, "bad reason_text"),
        ({"reason_text": "orphan"}, "bad reason_text"),
    ],
)
def test_the_decoder_checks_the_shape(fields: dict[str, str], problem: str | None) -> None:
    values = {"reverses": None, "corrects": None, "reason_code": None, "reason_text": None} | fields
    assert (
        check_shape("EV-2", values["reverses"], values["corrects"], values["reason_code"], values["reason_text"])
        == problem
    )
