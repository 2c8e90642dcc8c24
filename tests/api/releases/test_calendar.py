"""The release calendar (releases/calendar.py) and observation status (releases/service.py):
pure, no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from settlement_api.releases.calendar import CalendarError, Made, Promise, load_calendar, parse_calendar, standings
from settlement_api.releases.service import observation_status
from settlement_core.db.models import ReleaseFigure
from tests.conftest import ROOT

PRELIMINARY = Promise("2020", "preliminary", date(2021, 1, 15))
FINAL = Promise("2020", "final", date(2021, 3, 31))


def test_the_seeded_calendar_promises_2020s_releases() -> None:
    assert load_calendar(ROOT / "seeds" / "release_calendar.yaml") == (PRELIMINARY, FINAL)
    assert load_calendar(None) == ()


@pytest.mark.parametrize(
    "document",
    [
        {"releases": [{"period": "2020", "kind": "draft", "due": "2021-01-15"}]},
        {"releases": [{"period": "2020", "kind": "final", "due": "someday"}]},
        {"releases": [{"period": "2020", "kind": "final", "due": "2021-01-15", "owner": "x"}]},
        {"calendar": []},
    ],
)
def test_a_bad_calendar_is_refused_naming_the_field(document: object) -> None:
    with pytest.raises(CalendarError, match="release calendar: "):
        parse_calendar(document)


def test_states_on_time_late_due_and_overdue() -> None:
    made = [Made(7, "2020", "preliminary", date(2021, 1, 15)), Made(9, "2020", "preliminary", date(2021, 2, 1))]
    before = {s.promise.kind: s for s in standings([PRELIMINARY, FINAL], made, date(2021, 3, 31))}
    assert (before["preliminary"].state, before["preliminary"].release) == ("released", made[0])
    assert before["final"].state == "due"  # due today, not yet overdue
    after = {s.promise.kind: s.state for s in standings([PRELIMINARY, FINAL], made, date(2021, 4, 1))}
    assert after == {"preliminary": "released", "final": "overdue"}
    late = standings([FINAL], [Made(11, "2020", "final", date(2021, 4, 2))], date(2021, 5, 1))
    assert [(s.state, s.release.release_id if s.release else None) for s in late] == [("released_late", 11)]


def _final(amount: str, as_of: date = date(2020, 12, 31)) -> ReleaseFigure:
    return ReleaseFigure(
        release_id=1,
        target="offshore",
        currency="USD",
        amount=Decimal(amount),
        events=3,
        contributors=3,
        window_start=date(2020, 1, 1),
        as_of=as_of,
    )


def test_observation_status_provisional_final_revised() -> None:
    end = date(2020, 12, 31)
    assert observation_status(None, end, Decimal("1.00")) == "provisional"
    assert observation_status(_final("1.00"), end, Decimal("1.00")) == "final"
    assert observation_status(_final("1.00"), end, Decimal("1.01")) == "revised"
    # Another as_of is another observation than the one published.
    assert observation_status(_final("1.00"), date(2020, 6, 30), Decimal("1.00")) is None
