"""Strict JSON body decoding: numbers stay text (settlement_ingest.json_body)."""

from __future__ import annotations

import pytest

from settlement_core.problems import Problem
from settlement_ingest.json_body import JsonNumber, parse_json


def test_numbers_are_never_converted() -> None:
    huge = "1" + "0" * 5000  # int() refuses more than 4,300 digits
    document = parse_json(f'{{"a": {huge}, "b": 1e3, "c": 12.50, "d": NaN, "e": -Infinity, "f": "1"}}'.encode())
    assert document["a"] == JsonNumber("1" + "0" * 39 + "\u2026")
    assert document["b"] == JsonNumber("1e3")
    assert document["c"] == JsonNumber("12.50")
    assert document["d"] == JsonNumber("NaN")
    assert document["e"] == JsonNumber("-Infinity")
    assert document["f"] == "1"


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b'{"a": 1,}'])
def test_malformed_is_a_400_problem(body: bytes) -> None:
    with pytest.raises(Problem) as caught:
        parse_json(body)
    assert caught.value.status == 400
    assert len(caught.value.detail) < 300
