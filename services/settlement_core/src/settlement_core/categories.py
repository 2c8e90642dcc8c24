"""Settlement categories and event directions.

Categories are catalogue data (`seeds/targets.yaml`, loaded by `settlement_core.catalogue`),
not code: a successor plan may add one without a release. This module holds what every
category shares: the code syntax, the bound on how many one event may carry, and the pure
check of an event's `categories` list used by intake (with pointers) and the decoder.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

# Use with `fullmatch`. Lower-case so a code is also a safe Redis field part and label value.
CATEGORY_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
# One event counts toward at most the six statistics of the plan (issue 11).
MAX_CATEGORIES = 6


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


DIRECTION_BY_VALUE: dict[str, Direction] = {d.value: d for d in Direction}


@dataclass(frozen=True, slots=True)
class Category:
    """One statistic of a plan, e.g. cross_border_rmb / 跨境人民币结算."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class ListError:
    """A problem of a categories list; `index` is None for the list as a whole."""

    index: int | None
    message: str


def check_categories(value: object, known: Collection[str]) -> tuple[tuple[str, ...], tuple[ListError, ...]]:
    """(the codes sorted, problems): a JSON array of 1..MAX_CATEGORIES distinct known codes.

    Sorted because the list is a set: ["a", "b"] and ["b", "a"] are the same event body.
    """
    if not isinstance(value, list):
        return (), (ListError(None, "categories must be an array of category codes"),)
    if not 1 <= len(value) <= MAX_CATEGORIES:
        return (), (ListError(None, f"categories must hold 1 to {MAX_CATEGORIES} distinct codes"),)
    errors: list[ListError] = []
    seen: set[str] = set()
    for index, code in enumerate(value):
        if not isinstance(code, str) or code not in known:
            errors.append(ListError(index, "unknown category; one of " + ", ".join(sorted(known))))
        elif code in seen:
            errors.append(ListError(index, f"duplicate category {code!r}"))
        else:
            seen.add(code)
    if errors:
        return (), tuple(errors)
    return tuple(sorted(seen)), ()
