"""Corrections and the reasons banks give for them (`seeds/correction_reasons.yaml`).

A correction is an event (`corrects` = the event_id of an earlier event of the same bank)
that replaces what it corrects: the aggregator subtracts the original, as for a reversal,
and counts the correction's own figure (settlement_aggregate.planning). A correction must
carry a `reason_code` from the code list; a reversal may carry one too (a duplicate
submission is withdrawn by a reversal with reason_code DUPLICATE). OTHER needs a
`reason_text`.

This module is the one home of the rules on those three fields: `check_reference` is what
intake applies (with the code list), `check_shape` what the aggregator's strict decoder
applies to a topic message (the shape only: the list is intake's, and a code retired after
intake accepted it must not dead-letter an event already acknowledged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.seed_files import read_yaml

# Stable code names: upper-case words joined by underscores, as the seed file spells them.
REASON_CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
MAX_REASON_TEXT = 500  # characters: a sentence or two, as a resubmission note asks for
# What a reason_text may not hold: C0/C1 controls (a newline would let a note forge lines in an
# operator's view), the bidirectional overrides (text that reads otherwise than it is stored)
# and lone surrogates (JSON can carry them; PostgreSQL's UTF-8 cannot store them). The text
# needs one character that is not white space. One regular expression, written in the syntax
# Python and JSON Schema share, so intake and the OpenAPI document state the same rule; the
# surrogates are checked apart (_SURROGATE): a JSON Schema validator built on Rust's regex
# (schemathesis) refuses a pattern naming them, and no valid UTF-8 string holds one.
_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_SURROGATE = re.compile("[\ud800-\udfff]")
_BLANK = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
REASON_TEXT_PATTERN = re.compile(f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}{_BLANK}][^{_FORBIDDEN}]*$")
DUPLICATE = "DUPLICATE"
OTHER = "OTHER"


class ReasonFileError(ValueError):
    """A malformed reason code file; the message names the offending entry."""


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    label: str
    correction: bool  # a correction may carry it (not DUPLICATE: that is a reversal's)
    text_required: bool


@dataclass(frozen=True, slots=True)
class ReasonCodes:
    codes: Mapping[str, ReasonCode]

    def get(self, code: str) -> ReasonCode | None:
        return self.codes.get(code)

    def listing(self) -> str:
        return ", ".join(sorted(self.codes))


NO_REASONS = ReasonCodes({})


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    label: str = Field(min_length=1)
    correction: bool
    text_required: bool


class _File(RootModel[dict[str, _Entry]]):
    pass


def load_reason_codes(path: Path) -> ReasonCodes:
    """The code list in `path`; ReasonFileError naming what is wrong (checked at start)."""
    document = read_yaml(path, "reason code", ReasonFileError)
    try:
        entries = _File.model_validate(document).root
    except ValidationError as exc:
        raise ReasonFileError(f"reason code file {path}: {exc}") from None
    for code in entries:
        if not REASON_CODE_PATTERN.fullmatch(code):
            raise ReasonFileError(f"reason code file {path}: {code!r} is not an upper-case code name")
    if not entries:
        raise ReasonFileError(f"reason code file {path}: no codes")
    return ReasonCodes({code: ReasonCode(code, e.label, e.correction, e.text_required) for code, e in entries.items()})


def reason_text_problem(text: str) -> str | None:
    """Why `text` cannot be a reason_text, or None."""
    if len(text) > MAX_REASON_TEXT:
        return f"reason_text must be at most {MAX_REASON_TEXT} characters"
    if not REASON_TEXT_PATTERN.fullmatch(text) or _SURROGATE.search(text):
        return "reason_text must say something, without control characters, bidirectional overrides or lone surrogates"
    return None


@dataclass(frozen=True, slots=True)
class Reference:
    """The checked correction fields of one event (all None for a plain original)."""

    corrects: str | None
    reason_code: str | None
    reason_text: str | None


def check_reference(
    event_id: str | None,
    reverses: object,
    corrects: object,
    reason_code: object,
    reason_text: object,
    reasons: ReasonCodes,
) -> tuple[Reference, list[tuple[str, str]]]:
    """Intake's rules: the checked fields and the errors as (field name, message).

    `reverses` is only looked at for "both" and "reason without a reference" (its own
    checks are validation's)."""
    errors: list[tuple[str, str]] = []
    checked_corrects: str | None = None
    if corrects is not None:
        if not isinstance(corrects, str) or not EVENT_ID_PATTERN.fullmatch(corrects):
            errors.append(("corrects", "corrects must be the event_id of the event this one corrects"))
        elif corrects == event_id:
            errors.append(("corrects", "an event cannot correct itself"))
        elif reverses is not None:
            errors.append(("corrects", "send either reverses or corrects, not both"))
        else:
            checked_corrects = corrects
    code: ReasonCode | None = None
    if reason_code is None:
        if corrects is not None:
            errors.append(("reason_code", "a correction requires a reason_code: one of " + reasons.listing()))
    elif not isinstance(reason_code, str) or (code := reasons.get(reason_code)) is None:
        errors.append(("reason_code", "reason_code must be one of " + reasons.listing()))
    elif corrects is None and reverses is None:
        errors.append(("reason_code", "reason_code is only for a correction (corrects) or a reversal (reverses)"))
        code = None
    elif corrects is not None and not code.correction:
        errors.append(
            (
                "reason_code",
                f"{code.code} cannot be a correction's reason: a {code.label} is withdrawn by a reversal "
                f'(send "reverses" with reason_code {code.code})',
            )
        )
        code = None
    text: str | None = None
    if reason_text is not None:
        if not isinstance(reason_text, str):
            errors.append(("reason_text", "reason_text must be a string"))
        elif reason_code is None:
            errors.append(("reason_text", "reason_text is only sent with a reason_code"))
        elif (problem := reason_text_problem(reason_text)) is not None:
            errors.append(("reason_text", problem))
        else:
            text = reason_text
    elif code is not None and code.text_required:
        errors.append(("reason_text", f"reason_code {code.code} requires a reason_text saying what was wrong"))
    return Reference(checked_corrects, code.code if code is not None else None, text), errors


def check_shape(
    event_id: str, reverses: str | None, corrects: str | None, reason_code: str | None, reason_text: str | None
) -> str | None:
    """What is wrong with a topic message's correction fields (the aggregator's decoder),
    or None. The shape only, see the module docstring."""
    if corrects is not None:
        if not EVENT_ID_PATTERN.fullmatch(corrects):
            return "bad corrects"
        if reverses is not None:
            return "both reverses and corrects"
        if reason_code is None:
            return "a correction without reason_code"
    if reason_code is not None:
        if not REASON_CODE_PATTERN.fullmatch(reason_code):
            return "bad reason_code"
        if corrects is None and reverses is None:
            return "reason_code without reverses or corrects"
    if reason_text is not None and (reason_code is None or reason_text_problem(reason_text) is not None):
        return "bad reason_text"
    return None
