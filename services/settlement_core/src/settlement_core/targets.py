"""The target catalogue (`seeds/targets.yaml`), validated strictly at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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


def _text(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry[field]
    if not isinstance(value, str) or not value.strip():
        raise TargetsFileError(f"{where}.{field}: must be a non-empty string")
    return value


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TargetsFileError(f"{where}: must be a date YYYY-MM-DD") from None


def parse_targets(document: Any) -> tuple[Target, ...]:
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise TargetsFileError("targets: the file must hold a list under 'targets'")
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
            raise TargetsFileError(f"{where}.{sorted(unknown)[0]}: unknown field")
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
        if not isinstance(window, dict) or "start" not in window or "end" not in window:
            raise TargetsFileError(f"{where}.window: needs start and end")
        start = _date(window["start"], f"{where}.window.start")
        end = _date(window["end"], f"{where}.window.end")
        if end < start:
            raise TargetsFileError(f"{where}.window.end: before window.start")
        parsed.append(Target(
            code=code, name_zh=_text(entry, "name_zh", where), name_en=_text(entry, "name_en", where),
            amount=amount, currency=currency, display=_text(entry, "display", where),
            window_start=start, window_end=end, source=_text(entry, "source", where),
        ))
    codes = [t.code for t in parsed]
    if len(set(codes)) != len(codes):
        raise TargetsFileError("targets: duplicate code")
    missing = set(Category) - set(codes)
    if missing:
        raise TargetsFileError(f"targets: no target for {sorted(m.value for m in missing)}")
    return tuple(parsed)


def load_targets(path: Path) -> tuple[Target, ...]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetsFileError(f"targets file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TargetsFileError(f"targets file {path}: not valid YAML: {exc}") from None
    return parse_targets(document)
