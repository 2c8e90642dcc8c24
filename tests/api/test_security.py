"""Who reads what: bank scoping and which operator reads are audited (security.py)."""

from __future__ import annotations

import pytest

from settlement_api.security import Reader, is_per_bank_read, required_bank, scoped_bank
from settlement_core.auth import Principal
from settlement_core.problems import Problem


def _reader(kind: str, ident: str) -> Reader:
    return Reader(Principal(kind, ident, 1, 1))  # type: ignore[arg-type]


def test_bank_scope_matrix() -> None:
    bank_a, operator = _reader("bank", "bankA"), _reader("operator", "ops")
    assert scoped_bank(bank_a, None) == "bankA"
    assert scoped_bank(bank_a, "bankA") == "bankA"
    with pytest.raises(Problem) as caught:
        scoped_bank(bank_a, "bankB")
    assert caught.value.status == 404
    assert scoped_bank(operator, None) is None
    assert scoped_bank(operator, "bankB") == "bankB"
    with pytest.raises(Problem) as anonymous:
        scoped_bank(Reader(None), None)
    assert anonymous.value.status == 401


@pytest.mark.parametrize(
    ("path", "query", "audited"),
    [
        ("/v1/banks/B1/totals", [], True),
        ("/v1/events/E1", ["bank_id"], True),
        ("/v1/operator/league", [], True),
        ("/v1/operator/completeness", [], True),
        ("/v1/report", ["period", "format"], True),
        ("/v1/totals", ["bank_id", "category"], True),
        ("/v1/totals", ["category"], False),
        ("/v1/progress", [], False),
        ("/v1/audit", [], False),
    ],
)
def test_operator_reads_of_per_bank_data_are_the_audited_ones(path: str, query: list[str], audited: bool) -> None:
    assert is_per_bank_read(path, query) is audited


def test_reads_of_one_banks_records_need_a_bank_from_an_operator() -> None:
    """An operator must name the bank (422 pointing at bank_id); a bank key reads its own."""
    with pytest.raises(Problem) as refused:
        required_bank(_reader("operator", "op"), None)
    assert refused.value.status == 422
    assert [e.pointer for e in refused.value.errors] == ["#/query/bank_id"]
    assert required_bank(_reader("operator", "op"), "bank-b") == "bank-b"
    assert required_bank(_reader("bank", "bank-a"), None) == "bank-a"
