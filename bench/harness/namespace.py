"""An isolated namespace on the shared stack: own PostgreSQL database, own Redis database
number, own Kafka topics and consumer group, so a benchmark neither sees nor disturbs the
demo stack or the test suite that other engineers run at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.support.stack import read_env_file

from bench.config import ROOT
from bench.harness.kafka import EVENTS_PARTITIONS, delete_topics, wait_for_kafka
from settlement_core.auth import generate_key, hash_key
from settlement_core.db.models import Bank, Operator
from settlement_core.kafka_io import KafkaAccess

# One SCAN page of the current database and the summed MEMORY USAGE of its keys (a
# standalone server: the keys are not declared, which Redis Cluster would refuse).
_MEMORY_OF_SCAN_PAGE = """
local page = redis.call('SCAN', ARGV[1], 'COUNT', ARGV[2])
local total = 0
for _, key in ipairs(page[2]) do
  total = total + (redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') or 0)
end
return {page[1], total}
"""
VENV_BIN = Path(sys.executable).parent

# Banks must never be throttled by ingest's token bucket during a benchmark: we measure the
# pipe, not the per-bank limit.
UNLIMITED = 1_000_000_000


def stack_env() -> dict[str, str]:
    """The stack's environment: `make bench` exports it; a bare `python -m bench.run` reads
    $STACK_DIR/stack.env like tests/conftest.py does."""
    env_file = Path(os.environ.get("STACK_DIR", ROOT / ".stack")) / "stack.env"
    values = read_env_file(env_file) if env_file.exists() else {}
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "KAFKA_BOOTSTRAP",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_USERNAME",
        "KAFKA_PASSWORD",
        "TARGETS_FILE",
        "FX_RATES_FILE",
        "KAFKA_LIBS",
        "STACK_DIR",
    ):
        if key in os.environ:
            values[key] = os.environ[key]
    missing = [k for k in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP") if k not in values]
    if missing:
        raise SystemExit(
            f"bench: {missing} unset and {env_file} missing: run 'make bench' "
            "(it starts the stack) or 'deploy/local/stack.sh start'"
        )
    return values


@dataclass(frozen=True, slots=True)
class BankKey:
    bank_id: str
    key: str


@dataclass(slots=True)
class Namespace:
    """Created by `open_namespace`; dropped on exit unless `keep` is set."""

    tag: str
    env: dict[str, str]
    db_name: str
    redis_db: int
    admin_url: str
    topics: list[str] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.env["REDIS_URL"], decode_responses=True)

    def add_banks(self, count: int, prefix: str = "bench-bank") -> list[BankKey]:
        return self.register_banks([f"{prefix}-{i:03d}" for i in range(count)])

    def register_banks(self, bank_ids: list[str]) -> list[BankKey]:
        """Banks with fresh keys and no rate limit. The aggregator dead-letters the events of
        a bank that is not registered (unknown_bank), so events written to Kafka directly
        need their banks here too."""
        banks = [BankKey(bank_id, generate_key()) for bank_id in bank_ids]
        engine = create_engine(self.database_url)
        with Session(engine) as session, session.begin():
            for bank in banks:
                session.add(
                    Bank(
                        bank_id=bank.bank_id,
                        name=f"Benchmark bank {bank.bank_id}",
                        key_hash=hash_key(bank.key),
                        active=True,
                        rate_per_second=UNLIMITED,
                        burst=UNLIMITED,
                    )
                )
        engine.dispose()
        return banks

    def add_operator(self, name: str = "bench-operator") -> str:
        key = generate_key()
        engine = create_engine(self.database_url)
        with Session(engine) as session, session.begin():
            session.add(Operator(name=name, key_hash=hash_key(key), active=True))
        engine.dispose()
        return key

    def redis_memory_bytes(self) -> int:
        """Exact memory of every key in our Redis database (MEMORY USAGE, SAMPLES 0 = all
        fields); INFO's used_memory would include the other databases on the shared server.

        One script call sums a SCAN page on the server: a command per key from Python took
        ~25 s at the soak's 1.8 million idempotency keys, so the 10 s samples fell behind."""
        client = self.redis()
        page = client.register_script(_MEMORY_OF_SCAN_PAGE)
        total, cursor = 0, "0"
        while True:
            raw_cursor, page_bytes = page(args=[cursor, 1000])
            total += int(page_bytes)
            cursor = raw_cursor.decode() if isinstance(raw_cursor, bytes) else str(raw_cursor)
            if cursor == "0":
                break
        client.close()
        return total

    def redis_keys(self) -> int:
        return int(self.redis().dbsize())

    def pg_database_bytes(self) -> int:
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        engine.dispose()
        return int(size)

    def with_topic(self, events_topic: str) -> dict[str, str]:
        """The environment pointed at another (e.g. pre-filled) events topic."""
        return {**self.env, "EVENTS_TOPIC": events_topic}


def _settlementctl_init(env: dict[str, str]) -> None:
    # The documented initialisation path: Alembic to head, topics, FX seeds.
    result = subprocess.run(
        [str(VENV_BIN / "settlementctl"), "init"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"settlementctl init failed: {result.stderr[-2000:]}")


def _redis_databases(client: redis.Redis) -> int:
    # The stack configures 256 databases, but a server started from an older config may
    # have Redis's default 16; numbers beyond that fail with "DB index is out of range".
    try:
        return int(str(client.config_get("databases")["databases"]))
    except (redis.RedisError, KeyError, ValueError):
        return 16


def _claim_redis_db(base_url: str) -> int:
    # Share tests/conftest.py's allocator so concurrent test modules skip our number, and
    # only take a database that is empty.
    counter = redis.Redis.from_url(base_url)
    databases = _redis_databases(counter)
    for _ in range(databases):
        number = int(counter.incr("test:redis-db-counter")) % (databases - 1) + 1
        candidate = redis.Redis.from_url(base_url.rsplit("/", 1)[0] + f"/{number}")
        if candidate.dbsize() == 0:
            return number
    raise RuntimeError(f"no empty Redis database among the server's {databases}")


@contextmanager
def open_namespace(
    base: dict[str, str], label: str, partitions: int = EVENTS_PARTITIONS, keep: bool = False
) -> Iterator[Namespace]:
    wait_for_kafka(KafkaAccess.from_env(base))
    tag = f"{label}_{uuid.uuid4().hex[:8]}"
    db_name = f"bench_{tag}"
    admin_url = base["DATABASE_URL"]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    db_url = make_url(admin_url).set(database=db_name).render_as_string(hide_password=False)
    redis_db = _claim_redis_db(base["REDIS_URL"])
    redis_url = base["REDIS_URL"].rsplit("/", 1)[0] + f"/{redis_db}"
    topic = f"bench.{tag}.events"
    env = {
        **base,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EVENTS_TOPIC": topic,
        "DLQ_TOPIC": f"bench.{tag}.dlq",
        "CONSUMER_GROUP": f"bench.{tag}.aggregate",
        "EVENTS_PARTITIONS": str(partitions),
        "LOG_LEVEL": "WARNING",
        # Like the banks' event limits (UNLIMITED below): the byte bucket and the in-flight
        # cap are lifted, so the benchmark measures the pipe, not the per-bank limits.
        "BANK_BYTES_PER_SECOND": str(UNLIMITED),
        "BANK_BYTES_BURST": str(UNLIMITED),
        "BANK_MAX_IN_FLIGHT": "100000",
        # The API's per-key and per-address token buckets too: the reads stage sends hundreds
        # of back-to-back reads with one operator key (the default bucket answered 429 from
        # the 30th on 2026-12-08).
        "RATE_PER_KEY": str(UNLIMITED),
        "BURST_PER_KEY": str(UNLIMITED),
        "RATE_PER_ADDRESS": str(UNLIMITED),
        "BURST_PER_ADDRESS": str(UNLIMITED),
    }
    ns = Namespace(
        tag=tag, env=env, db_name=db_name, redis_db=redis_db, admin_url=admin_url, topics=[topic, env["DLQ_TOPIC"]]
    )
    try:
        _settlementctl_init(env)
        yield ns
    finally:
        if not keep:
            drop_namespace(ns)


def drop_namespace(ns: Namespace) -> None:
    try:
        ns.redis().flushdb()
    except redis.RedisError as exc:
        print(f"bench: could not flush redis db {ns.redis_db}: {exc}", file=sys.stderr)
    delete_topics(KafkaAccess.from_env(ns.env), ns.topics)
    admin = create_engine(ns.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{ns.db_name}" WITH (FORCE)'))
    except Exception as exc:  # cleanup must not hide the result
        print(f"bench: could not drop database {ns.db_name}: {exc}", file=sys.stderr)
    finally:
        admin.dispose()
