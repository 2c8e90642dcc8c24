"""Shared fixtures for tests that run against the real stack (deploy/local/stack.sh).

`make test` starts Kafka, Redis, PostgreSQL and Prometheus before pytest. Integration tests
never share state: `isolated_env` gives each test module its own PostgreSQL database
(migrated by Alembic), its own Redis database number and its own Kafka topics, so modules
cannot see each other's events and totals. `ServiceRunner` starts the real service
processes (`python -m settlement_ingest` etc.) against that namespace.
"""

# ruff: noqa: E402  (the assertion-rewrite registration must precede the imports)
from __future__ import annotations

import pytest

# Before tests.support is imported: its assertions get pytest's detailed messages.
pytest.register_assert_rewrite("tests.support")
pytest_plugins = ["tests.support.plugin"]

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.kafka import kafka_access

# Re-exported: test modules import these from tests.conftest.
from tests.support.stack import ARTIFACTS as ARTIFACTS
from tests.support.stack import ROOT as ROOT
from tests.support.stack import STACK_DIR as STACK_DIR
from tests.support.stack import free_port as free_port
from tests.support.stack import stack_env as stack_env


def _create_database(base_url: str, name: str) -> str:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def isolated_env() -> dict[str, str]:
    """Environment for one test module: fresh database, Redis db, topics and group."""
    from settlement_core.db.migrate import upgrade
    from settlement_core.kafka_io import ensure_topics
    from settlement_ctl.init import load_fx_rates

    base = stack_env()
    tag = uuid.uuid4().hex[:10]
    db_url = _create_database(base["DATABASE_URL"], f"t_{tag}")
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
    # The database and topics stay for post-mortems; `make stop` + rm -rf .stack clears them.
    return env


class ServiceRunner:
    """Starts real service processes and kills them (SIGKILL on request) afterwards."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self,
        name: str,
        module: str,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.env, **(extra_env or {})}
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = (self.logdir / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)
        self.procs[name] = proc
        if wait and port is not None:
            wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, name=name, logdir=self.logdir)
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)


def wait_http(
    url: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    name: str = "service",
    logdir: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = (logdir / f"{name}.log").read_text()[-3000:] if logdir else ""
            pytest.fail(f"{name} exited with {proc.returncode} before becoming healthy:\n{tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not healthy after {timeout}s")


@pytest.fixture(scope="module")
def services(isolated_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[ServiceRunner]:
    logdir = ARTIFACTS / "logs" / request.module.__name__.replace(".", "_")
    runner = ServiceRunner(isolated_env, logdir)
    yield runner
    runner.stop_all()
