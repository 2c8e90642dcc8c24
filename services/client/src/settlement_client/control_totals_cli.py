"""`settlement-submit --control-totals FILE`: declare a month's control totals from a JSON file
and print how they compare with the events the tracker counted.

    {"period": "2020-01", "lines": [{"target": "cross_border_rmb", "currency": "CNY",
                                     "count": 4, "amount": "1473.99"}]}

The API answers (docs/api.md, "Control totals"); the file is sent as it is, so the server's
rules decide (every bad field is printed with its pointer). Re-running with the same file is
safe: the stored declaration is answered, nothing changes.

Exit status: 0 the declaration balances with the counted events, 1 it does not (breaks are
open: the lines are printed) or it was refused for bad fields, 2 the run could not finish
(unreadable file, bad key, API unavailable past the retry budget).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from settlement_client.client import Client
from settlement_client.errors import InvalidRequest, SettlementError
from settlement_client.results import ControlTotals

EXIT_BALANCED, EXIT_BREAKS, EXIT_FAILED = 0, 1, 2


def read_declaration(path: Path) -> dict[str, Any]:
    """The declaration in the file: a JSON object with `period` and `lines` (ValueError if not)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("lines"), list):
        raise ValueError(f"{path}: not a JSON object with 'period' and a list of 'lines'")
    return document


def report(result: ControlTotals, out: TextIO) -> None:
    what = "declared" if result.stored else "already declared (nothing changed)"
    out.write(f"{result.period}: version {result.version} {what}\n")
    if result.balanced:
        out.write("balanced: every line equals the counted events\n")
    for line in result.unbalanced:
        out.write(
            f"break: {line['target']} {line['currency']}: declared {line['declared']['count']} / "
            f"{line['declared']['amount']}, counted {line['counted']['count']} / {line['counted']['amount']} "
            f"(difference {line['count_difference']} events, {line['amount_difference']})\n"
        )


def run(client: Client, path: Path, out: TextIO, err: TextIO) -> int:
    try:
        declaration = read_declaration(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        err.write(f"settlement-submit: {exc}\n")
        return EXIT_FAILED
    try:
        result = client.declare_control_totals(str(declaration.get("period")), declaration["lines"])
    except InvalidRequest as exc:
        err.write("settlement-submit: the declaration was refused (nothing stored):\n")
        for error in exc.problem.errors:
            err.write(f"  {error.pointer}: {error.message}\n")
        return EXIT_BREAKS
    except SettlementError as exc:
        err.write(f"settlement-submit: {exc}\n")
        return EXIT_FAILED
    report(result, out)
    return EXIT_BALANCED if result.balanced else EXIT_BREAKS
