"""Reading events from CSV or JSON-lines files, each with the line it came from.

CSV: a header row of event field names; an empty cell means the field is absent (so optional
columns can stay blank). JSON-lines: one JSON object per line; blank lines are skipped.
Values are passed through as read: the server (or `--dry-run`) judges them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Format = Literal["csv", "jsonl"]


@dataclass(frozen=True, slots=True)
class Row:
    """One event of the file; `line` is where its record starts (1-based, header = line 1)."""

    line: int
    event: Any


class SourceError(ValueError):
    """The file cannot be read as the chosen format (not a bad event: a bad file)."""


def guess_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise SourceError(f"cannot tell the format of {path.name}; pass --format csv or --format jsonl")


def read_rows(path: Path, fmt: Format) -> Iterator[Row]:
    if fmt == "csv":
        yield from _csv_rows(path)
    else:
        yield from _jsonl_rows(path)


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise SourceError(f"{path.name} has no header row")
        names = [h.strip() for h in header]
        start = reader.line_num + 1
        for record in reader:
            if len(record) > len(names):
                yield Row(start, _Unreadable(f"row has {len(record)} cells but the header names {len(names)}"))
            elif record:
                yield Row(start, {name: value for name, value in zip(names, record, strict=False) if value != ""})
            start = reader.line_num + 1


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield Row(number, json.loads(text))
            except json.JSONDecodeError as exc:
                # One broken line must not stop the file: it becomes a rejected row.
                yield Row(number, _Unreadable(f"line is not valid JSON: {exc.msg}"))


@dataclass(frozen=True, slots=True)
class _Unreadable:
    reason: str


def unreadable_reason(event: object) -> str | None:
    return event.reason if isinstance(event, _Unreadable) else None
