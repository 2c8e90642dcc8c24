from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from settlement_client.rules import EventRules
from settlement_client.sources import SourceError, guess_format, read_rows, unreadable_reason


def test_csv_rows_with_line_numbers_and_blank_cells(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,category,amount,reverses\n"
        "E1,offshore,10.00,\n"
        '"E2","offshore","1,000.00",E1\n'
        "\n"
        'E3,offshore,"multi\nline",\n'
        "E4,offshore,5.00,,surplus\n",
        encoding="utf-8",
    )
    rows = list(read_rows(path, "csv"))
    assert [r.line for r in rows] == [2, 3, 5, 7]
    assert rows[0].event == {"event_id": "E1", "category": "offshore", "amount": "10.00"}
    assert rows[1].event["amount"] == "1,000.00"  # passed through: the rules reject it
    assert rows[2].event["amount"] == "multi\nline"
    assert unreadable_reason(rows[3].event) == "row has 5 cells but the header names 4"


def test_jsonl_rows_keep_bad_lines_as_rejects(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"event_id": "E1"}\n\n{not json\n{"event_id": "E3", "amount": 5}\n', encoding="utf-8")
    rows = list(read_rows(path, "jsonl"))
    assert [r.line for r in rows] == [1, 3, 4]
    assert rows[0].event == {"event_id": "E1"}
    assert (unreadable_reason(rows[1].event) or "").startswith("line is not valid JSON")
    assert rows[2].event == {"event_id": "E3", "amount": 5}


def test_format_from_the_extension(tmp_path: Path) -> None:
    assert guess_format(Path("a.CSV")) == "csv"
    assert guess_format(Path("a.jsonl")) == "jsonl"
    assert guess_format(Path("a.ndjson")) == "jsonl"
    with pytest.raises(SourceError):
        guess_format(Path("a.xlsx"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SourceError):
        list(read_rows(empty, "csv"))


def test_a_csv_of_corrections_passes_the_dry_run_rules(tmp_path: Path) -> None:
    # settlement-submit reads correction columns like any other; blank cells are absent, so one
    # file can mix originals, corrections and a DUPLICATE reversal.
    path = tmp_path / "corrections.csv"
    path.write_text(
        "event_id,category,amount,currency,value_date,direction,counterparty_country,reverses,corrects,"
        "reason_code,reason_text\n"
        "E1,cross_border_rmb,10.00,CNY,2026-11-30,outbound,SG,,,,\n"
        "E1-C,cross_border_rmb,12.00,CNY,2026-11-30,outbound,SG,,E1,WRONG_AMOUNT,\n"
        "E1-C2,cross_border_rmb,12.00,CNY,2026-11-29,outbound,SG,,E1-C,OTHER,booking date sent as value date\n"
        "E2-R,cross_border_rmb,5.00,CNY,2026-11-30,outbound,SG,E2,,DUPLICATE,\n"
        "E3-C,cross_border_rmb,5.00,CNY,2026-11-30,outbound,SG,,E3,OTHER,\n",
        encoding="utf-8",
    )
    rules = EventRules.shipped()
    verdicts = [[e.pointer for e in rules.check(r.event, date(2026, 12, 1))] for r in read_rows(path, "csv")]
    assert verdicts == [[], [], [], [], ["#/reason_text"]]
