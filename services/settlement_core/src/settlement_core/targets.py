"""The target catalogue (`seeds/targets.yaml`), validated strictly at start-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from settlement_core.categories import Category
from settlement_core.money import MINOR_UNITS

# The plan's display units: 亿 = 10^8.
YI = Decimal(100_000_000)
PLAN_UNIT_LABEL = {"CNY": "亿元", "USD": "亿美元"}


class TargetsFileError(ValueError):
    """A malformed targets file; the message names the offending field."""


@dataclass(frozen=True, slots=True)
class Target:
    code: Category
    name_zh: str
    name_en: str
    amount: int
    currency: str
    display: str
    window_start: date
    window_end: date
    source: str

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days + 1


_REQUIRED = ("code", "name_zh", "name_en", "amount", "currency", "display", "window", "source")
_WINDOW_FIELDS = ("start", "end")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _text(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry[field]
    if not isinstance(value, str) or not value.strip():
        raise TargetsFileError(f"{where}.{field}: must be a non-empty string")
    return value


def _date(value: Any, where: str) -> date:
    # YAML gives a date for an unquoted 2020-01-01 and a datetime for 2020-01-01 10:00; a
    # datetime (a date subclass) would not compare with dates later, so it is refused. Only
    # YYYY-MM-DD text is accepted (Python 3.11 fromisoformat also takes 20200101, 2020-W01-1).
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise TargetsFileError(f"{where}: must be a date YYYY-MM-DD")


def parse_targets(document: Any) -> tuple[Target, ...]:
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise TargetsFileError("targets: the file must hold a list under 'targets'")
    extra = set(document) - {"targets"}
    if extra:
        raise TargetsFileError(f"{sorted(map(str, extra))[0]}: unknown field")
    parsed: list[Target] = []
    for index, entry in enumerate(document["targets"]):
        where = f"targets[{index}]"
        if not isinstance(entry, dict):
            raise TargetsFileError(f"{where}: must be a mapping")
        for field in _REQUIRED:
            if field not in entry:
                raise TargetsFileError(f"{where}.{field}: missing")
        unknown = set(entry) - set(_REQUIRED)
        if unknown:
            raise TargetsFileError(f"{where}.{sorted(map(str, unknown))[0]}: unknown field")
        try:
            code = Category(entry["code"])
        except ValueError:
            raise TargetsFileError(f"{where}.code: unknown category {entry['code']!r}") from None
        amount = entry["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise TargetsFileError(f"{where}.amount: must be a positive integer")
        currency = _text(entry, "currency", where)
        if currency not in MINOR_UNITS:
            raise TargetsFileError(f"{where}.currency: unknown currency {currency!r}")
        window = entry["window"]
        if not isinstance(window, dict):
            raise TargetsFileError(f"{where}.window: must be a mapping with start and end")
        for field in _WINDOW_FIELDS:
            if field not in window:
                raise TargetsFileError(f"{where}.window.{field}: missing")
        unknown = set(window) - set(_WINDOW_FIELDS)
        if unknown:
            raise TargetsFileError(f"{where}.window.{sorted(map(str, unknown))[0]}: unknown field")
        start = _date(window["start"], f"{where}.window.start")
        end = _date(window["end"], f"{where}.window.end")
        if end < start:
            raise TargetsFileError(f"{where}.window.end: before window.start")
        if any(t.code is code for t in parsed):
            raise TargetsFileError(f"{where}.code: duplicate code {code.value!r}")
        parsed.append(
            Target(
                code=code,
                name_zh=_text(entry, "name_zh", where),
                name_en=_text(entry, "name_en", where),
                amount=amount,
                currency=currency,
                display=_text(entry, "display", where),
                window_start=start,
                window_end=end,
                source=_text(entry, "source", where),
            )
        )
    codes = [t.code for t in parsed]
    missing = set(Category) - set(codes)
    if missing:
        raise TargetsFileError(f"targets: no target for {sorted(m.value for m in missing)}")
    return tuple(parsed)


def load_targets(path: Path) -> tuple[Target, ...]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetsFileError(f"targets file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TargetsFileError(f"targets file {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise TargetsFileError(f"targets file {path}: not valid YAML: {exc}") from None
    return parse_targets(document)
