"""catalogue.model: plan units, windows, and the figure base of targets and references."""

from __future__ import annotations

import dataclasses
from datetime import date

from settlement_core.catalogue import YI, Figure, Reference, ReferenceKind, Target


def test_yi_is_ten_to_the_eighth() -> None:
    assert YI == 10**8


def test_window_days_counts_both_ends() -> None:
    target = Target(
        code="offshore",
        period="2021",
        name_zh="x",
        name_en="x",
        amount=1,
        currency="USD",
        display="x",
        window_start=date(2021, 1, 1),
        window_end=date(2021, 1, 1),
        source="x",
    )
    assert target.window_days == 1
    assert dataclasses.replace(target, window_end=date(2021, 12, 31)).window_days == 365


def test_targets_and_references_are_figures_with_the_same_window_arithmetic() -> None:
    reference = Reference(
        code="offshore",
        period="2011-2015",
        kind=ReferenceKind.BASELINE,
        amount=1,
        currency="USD",
        display="x",
        window_start=date(2011, 1, 1),
        window_end=date(2015, 12, 31),
        source="x",
        note=None,
    )
    assert isinstance(reference, Figure)
    assert issubclass(Target, Figure)
    assert reference.window_days == 365 * 5 + 1  # 2012 is a leap year
