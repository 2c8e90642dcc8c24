"""Redis Cluster safety of every Lua script: all keys of one call hash to one slot (a
multi-slot script call fails with CROSSSLOT in cluster mode), and REDIS_URL parsing."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from settlement_aggregate.projection import apply_keys
from settlement_aggregate.rebuild import swap_keys
from settlement_core.redis_io import RedisMode, parse_url
from settlement_ingest.idempotency import idempotency_key


def _slots(keys: list[str]) -> set[int]:
    return {key_slot(k.encode()) for k in keys}


@pytest.mark.parametrize("partition", [0, 1, 5, 11, 63, 255])
def test_projection_apply_touches_one_slot(partition: int) -> None:
    assert len(_slots(apply_keys(partition))) == 1


@pytest.mark.parametrize("partition", [0, 1, 5, 11, 63, 255])
def test_rebuild_swap_touches_one_slot(partition: int) -> None:
    keys = swap_keys(partition)
    assert len(keys) == 5
    assert _slots(keys) == _slots(apply_keys(partition))


def test_partitions_spread_over_slots() -> None:
    # The tag is per partition, not one global tag: the projection spreads over the cluster.
    assert len({next(iter(_slots(apply_keys(p)))) for p in range(12)}) > 1


@pytest.mark.parametrize("bank", ["cqrcb", "B1", "bank-with-dash"])
def test_one_requests_idempotency_claims_touch_one_slot(bank: str) -> None:
    # Claim, release and mark-done scripts take the claims of one request: one bank.
    keys = [idempotency_key(bank, f"evt-{n}") for n in range(1000)]
    assert len(_slots(keys)) == 1


def test_different_banks_use_different_tags() -> None:
    assert idempotency_key("a", "e") != idempotency_key("b", "e")
    assert idempotency_key("a", "e").startswith("idem:{a}:")


def test_cluster_url_lists_seed_nodes() -> None:
    target = parse_url("redis://:s3cret@127.0.0.1:17001,127.0.0.1:17002,localhost:17003/0")
    assert target.hosts == (("127.0.0.1", 17001), ("127.0.0.1", 17002), ("localhost", 17003))
    assert target.password == "s3cret"
    assert target.db == 0


def test_sentinel_url_names_the_service() -> None:
    target = parse_url("redis://:pw@127.0.0.1:26379,127.0.0.1:26380/2?service=settlement")
    assert target.service == "settlement"
    assert target.db == 2


def test_unknown_mode_and_scheme_are_refused() -> None:
    with pytest.raises(ValueError, match="not a valid RedisMode"):
        RedisMode("replicated")
    with pytest.raises(ValueError, match="redis://"):
        parse_url("http://127.0.0.1:6379")
