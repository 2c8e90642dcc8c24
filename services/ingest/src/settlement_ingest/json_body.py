"""Strict decoding of a JSON request body, in which numbers stay text.

The event contract has no numeric member (amounts are decimal strings), so intake never
converts a JSON number: each one becomes a `JsonNumber` carrying its text, and validation
answers 422 at its pointer. Converting them was a 500: Python refuses int() of more than
4,300 digits (`"amount": 1000…0` with 5,000 digits raised ValueError out of json.loads),
and floats silently round. `NaN`/`Infinity` (not JSON, but accepted by Python) are kept
as text the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from settlement_core.problems import Problem, clip

# Only the first characters of a number are kept: enough to name it in a message.
_KEPT_DIGITS = 40


@dataclass(frozen=True, slots=True)
class JsonNumber:
    """A number as it appeared in the body (first 40 characters), never converted."""

    text: str


def _number(text: str) -> JsonNumber:
    return JsonNumber(clip(text, _KEPT_DIGITS))


def parse_json(body: bytes) -> Any:
    """The decoded document; 400 problem for bytes that are not JSON in UTF-8."""
    try:
        return json.loads(body, parse_int=_number, parse_float=_number, parse_constant=_number)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Problem(400, "Malformed JSON", f"The body is not valid JSON: {exc}", "malformed-json") from None
