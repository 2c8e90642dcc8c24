"""The six settlement categories of the plan and the event directions."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CROSS_BORDER_RMB = "cross_border_rmb"
    CROSS_BORDER_ECOMMERCE = "cross_border_ecommerce"
    MNC_HEADQUARTERS = "mnc_headquarters"
    OFFSHORE = "offshore"
    FACTOR_MARKET = "factor_market"
    CORPORATE_ACCOUNT = "corporate_account"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


CATEGORY_CODES: tuple[str, ...] = tuple(c.value for c in Category)
# Members by value through a dict: calling the Enum class costs about a microsecond, and
# intake and the aggregator look one up for every event.
CATEGORY_BY_CODE: dict[str, Category] = {c.value: c for c in Category}
DIRECTION_BY_VALUE: dict[str, Direction] = {d.value: d for d in Direction}
