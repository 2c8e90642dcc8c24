"""kafka_io: the caching partitioner places every key exactly where kafka-python's default
(murmur2, as the Java client) does, so events keep their bank's partition."""

from __future__ import annotations

import random

import pytest
from kafka.partitioner.default import DefaultPartitioner

from settlement_core.kafka_io import KeyHashCachingPartitioner


class StubCluster:
    """The three ClusterMetadata calls a partitioner makes."""

    def __init__(self, partitions: dict[str, set[int]]) -> None:
        self._partitions = partitions

    def topics(self) -> set[str]:
        return set(self._partitions)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions[topic]

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions[topic]


@pytest.mark.parametrize("count", [1, 3, 12, 50])
def test_same_partition_as_the_default(count: int) -> None:
    rng = random.Random(count)
    cluster = StubCluster({"t": set(range(count))})
    ours, default = KeyHashCachingPartitioner(), DefaultPartitioner()
    keys = [rng.randbytes(rng.randint(0, 40)) for _ in range(2000)]
    for key in keys + keys:  # the second pass is answered from the cache
        assert ours.partition("t", key, key, b"v", b"v", cluster) == default.partition(
            "t", key, key, b"v", b"v", cluster
        )


def test_cache_follows_a_partition_count_change() -> None:
    ours, default = KeyHashCachingPartitioner(), DefaultPartitioner()
    for count in (6, 12):
        cluster = StubCluster({"t": set(range(count))})
        for key in (b"bank-01", b"bank-02", b"BANK.X_9"):
            assert ours.partition("t", key, key, None, None, cluster) == default.partition(
                "t", key, key, None, None, cluster
            )


def test_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="not found"):
        KeyHashCachingPartitioner().partition("nope", b"k", b"k", None, None, StubCluster({"t": {0}}))


def test_keyless_records_use_an_existing_partition() -> None:
    cluster = StubCluster({"t": {0, 1, 2}})
    assert KeyHashCachingPartitioner().partition("t", None, None, b"v", b"v", cluster) in {0, 1, 2}
