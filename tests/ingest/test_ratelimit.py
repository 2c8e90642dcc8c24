"""The pure parts of the per-bank limits: the up-front cost and the keys."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from settlement_ingest.ratelimit import admit_keys, byte_bucket_key, event_bucket_key, lease_key, request_cost

LIMIT = 4 * 1024 * 1024


@pytest.mark.parametrize(
    ("header", "cost"),
    [
        ("0", 0),
        ("1", 1),
        ("4000000", 4_000_000),
        (str(LIMIT), LIMIT),
        (" 123 ", 123),
        (None, LIMIT),  # chunked: the maximum is charged up front
        (str(LIMIT + 1), 0),  # answered 413 from the header, nothing read
        ("9" * 19, 0),
    ],
)
def test_request_cost(header: str | None, cost: int) -> None:
    assert request_cost(header, LIMIT) == cost


@pytest.mark.parametrize("header", ["", "abc", "-1", "1e3", "١٢٣", "１２３", "9" * 20, "1" + "0" * 5000, "12 3"])
def test_request_cost_refuses_what_is_not_ascii_digits(header: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        request_cost(header, LIMIT)


@pytest.mark.parametrize("bank", ["cqrcb", "B1", "bank-with-dash"])
def test_one_admission_touches_one_cluster_slot(bank: str) -> None:
    assert len({key_slot(k.encode()) for k in admit_keys(bank)}) == 1
    # and the event bucket of the same bank lives in that slot too
    assert key_slot(event_bucket_key(bank).encode()) == key_slot(lease_key(bank).encode())
    assert byte_bucket_key(bank).startswith(f"rl:{{{bank}}}")
