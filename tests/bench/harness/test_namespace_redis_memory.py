"""The benchmark's Redis memory figure (one script call per SCAN page) equals the sum of
MEMORY USAGE over every key of the database, asked key by key, on a real Redis."""

from __future__ import annotations

import pytest
import redis
from bench.harness.namespace import Namespace

pytestmark = pytest.mark.integration


def test_script_sum_equals_key_by_key_sum(isolated_env: dict[str, str]) -> None:
    client = redis.Redis.from_url(isolated_env["REDIS_URL"])
    pipe = client.pipeline(transaction=False)
    for i in range(2_500):  # more than two SCAN pages of 1000
        pipe.set(f"idem:{{bank-{i % 7}}}:{i:08d}", "D|" + "a" * 64, ex=600)
    pipe.hset("stl:{stl:p0}:t", mapping={f"f{i}": i for i in range(300)})
    pipe.sadd("stl:{stl:p0}:seen", *[f"e{i}" for i in range(50)])
    pipe.execute()
    by_key = sum(int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter(count=500))
    namespace = Namespace(tag="t", env=isolated_env, db_name="unused", redis_db=0, admin_url="unused")

    assert by_key > 2_500 * 64
    assert namespace.redis_memory_bytes() == by_key
    client.delete("stl:{stl:p0}:t")
    assert namespace.redis_memory_bytes() < by_key
