"""An aggregator started while Redis is unreachable waits for it (backoff, /readyz down)
instead of exiting: every dependency it needs at start-up is retried the same way.

Nemesis seed 20261207: an aggregator restarted during a Redis partition exited at once,
because redis-py's RedisCluster reads the slot map in its constructor. The Redis "cluster"
here is a loopback port nobody listens on: a real client, refused for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.ports import free_port
from tests.support.stack import ROOT


def test_aggregator_waits_for_an_unreachable_redis_cluster_at_start(tmp_path: Path) -> None:
    log = tmp_path / "aggregate.log"
    env = {
        **os.environ,
        "REDIS_URL": f"redis://:pw@127.0.0.1:{free_port()}/0",
        "REDIS_MODE": "cluster",
        "DATABASE_URL": f"postgresql+psycopg://u:p@127.0.0.1:{free_port()}/db",
        "KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "AGGREGATE_PORT": str(free_port()),
        "AGGREGATE_BACKOFF_MAX_S": "0.5",
        "LOG_LEVEL": "INFO",
        "TARGETS_FILE": str(ROOT / "seeds" / "targets.yaml"),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "settlement_aggregate"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        waits: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(waits) < 3 and proc.poll() is None:
            time.sleep(0.5)
            rows = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            waits = [r for r in rows if r.get("msg") == "retryable failure, backing off"]
        assert proc.poll() is None, f"the aggregator exited ({proc.returncode}):\n{log.read_text()[-2000:]}"
        assert len(waits) >= 3, log.read_text()[-2000:]
        assert {w["step"] for w in waits} == {"redis connect"}
    finally:
        proc.kill()
        proc.wait(timeout=30)
