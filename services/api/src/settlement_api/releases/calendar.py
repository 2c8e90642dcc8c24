"""The advance release calendar (seeds/release_calendar.yaml): the dates each period's
preliminary and final releases are promised by, and where each one stands (pure, except
`load_calendar`).

States, in the business timezone: `released` (on or before its due date), `released_late`,
`due` (not yet released, due today or later) and `overdue` (not released, due date passed).
The first release of the period and kind counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Kind = Literal["preliminary", "final"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str = Field(min_length=1, max_length=16)
    kind: Kind
    due: date


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    releases: list[_Entry]


@dataclass(frozen=True, slots=True)
class Promise:
    period: str
    kind: Kind
    due: date


class CalendarError(ValueError):
    pass


def parse_calendar(document: object) -> tuple[Promise, ...]:
    try:
        parsed = _Document.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CalendarError(f"release calendar: {where}: {first['msg']}") from None
    return tuple(Promise(e.period, e.kind, e.due) for e in parsed.releases)


def load_calendar(path: Path | None) -> tuple[Promise, ...]:
    if path is None:
        return ()
    return parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True, slots=True)
class Made:
    """A release as the calendar needs it: its id and business date."""

    release_id: int
    period: str
    kind: str
    on: date


@dataclass(frozen=True, slots=True)
class Standing:
    promise: Promise
    state: Literal["released", "released_late", "due", "overdue"]
    release: Made | None


def standings(promises: Sequence[Promise], made: Sequence[Made], today: date) -> list[Standing]:
    """Each promise with the first release of its period and kind (earliest date, then id)."""
    first: dict[tuple[str, str], Made] = {}
    for m in sorted(made, key=lambda m: (m.on, m.release_id)):
        first.setdefault((m.period, m.kind), m)
    result = []
    for p in sorted(promises, key=lambda p: (p.due, p.period, p.kind)):
        release = first.get((p.period, p.kind))
        if release is not None:
            state: Literal["released", "released_late", "due", "overdue"] = (
                "released" if release.on <= p.due else "released_late"
            )
        else:
            state = "due" if today <= p.due else "overdue"
        result.append(Standing(p, state, release))
    return result
