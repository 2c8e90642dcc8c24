"""Shared fixtures for tests that run against the real stack (deploy/local/stack.sh).

`make test` starts Kafka, Redis, PostgreSQL and Prometheus before pytest. Integration tests
never share state: `isolated_env` gives each test module its own PostgreSQL database
(migrated by Alembic, dropped when the session ends), its own Redis database number and its
own Kafka topics, so modules cannot see each other's events and totals. `ServiceRunner`
(tests/support/services.py) starts the real service processes (`python -m settlement_ingest`
etc.) against that namespace, each on a free port.
"""

# ruff: noqa: E402  (the assertion-rewrite registration must precede the imports)
from __future__ import annotations

import pytest

# Before tests.support is imported: its assertions get pytest's detailed messages.
pytest.register_assert_rewrite("tests.support")
pytest_plugins = ["tests.support.plugin"]

import uuid
from collections.abc import Iterator

import redis

from tests.support.databases import TestDatabases
from tests.support.kafka import kafka_access

# Re-exported: test modules import these from tests.conftest.
from tests.support.ports import free_port as free_port
from tests.support.services import ServiceRunner as ServiceRunner
from tests.support.services import wait_http as wait_http
from tests.support.stack import ARTIFACTS as ARTIFACTS
from tests.support.stack import ROOT as ROOT
from tests.support.stack import STACK_DIR as STACK_DIR
from tests.support.stack import stack_env as stack_env


@pytest.fixture(scope="session")
def test_databases() -> Iterator[TestDatabases]:
    """Every database `isolated_env` creates, dropped when the session ends."""
    databases = TestDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="module")
def isolated_env(test_databases: TestDatabases) -> dict[str, str]:
    """Environment for one test module: fresh database, Redis db, topics and group."""
    from settlement_core.db.migrate import upgrade
    from settlement_core.kafka_io import ensure_topics
    from settlement_ctl.init import load_fx_rates

    base = stack_env()
    tag = uuid.uuid4().hex[:10]
    db_url = test_databases.create(base["DATABASE_URL"], f"t_{tag}")
    upgrade(db_url)
    load_fx_rates(db_url, ROOT / "seeds" / "fx_rates.csv")  # as `settlementctl init` does
    counter = redis.Redis.from_url(base["REDIS_URL"])
    db_number = int(counter.incr("test:redis-db-counter")) % 255 + 1
    redis_url = base["REDIS_URL"].rsplit("/", 1)[0] + f"/{db_number}"
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **base,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EVENTS_TOPIC": f"t{tag}.events",
        "DLQ_TOPIC": f"t{tag}.dlq",
        "CONSUMER_GROUP": f"t{tag}.aggregate",
        "EVENTS_PARTITIONS": "6",
        # The API's abuse controls are tested in tests/security (test_api_*.py), which set
        # their own values; elsewhere a module's two or three test banks and rapid reads
        # must see exact figures: no disclosure suppression, no rate limit, no read cache.
        "MIN_CONTRIBUTORS": "1",
        "RATE_PER_KEY": "100000",
        "BURST_PER_KEY": "100000",
        "RATE_PER_ADDRESS": "100000",
        "BURST_PER_ADDRESS": "100000",
        "ANONYMOUS_CACHE_SECONDS": "0",
    }
    ensure_topics(kafka_access(env), {env["EVENTS_TOPIC"]: 6, env["DLQ_TOPIC"]: 1})
    # The topics stay for post-mortems (`make stop` + rm -rf .stack clears them); the
    # database is dropped at the end of the session (tests/support/databases.py).
    return env


@pytest.fixture(scope="module")
def services(isolated_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[ServiceRunner]:
    logdir = ARTIFACTS / "logs" / request.module.__name__.replace(".", "_")
    runner = ServiceRunner(isolated_env, logdir)
    yield runner
    runner.stop_all()
