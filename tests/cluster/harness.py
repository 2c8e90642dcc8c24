"""Drive the cluster stack (deploy/local/stack.sh --cluster) in fault tests: find and kill
engine leaders, run background intake over HTTP, check the outcome against an independent
Decimal oracle. Loopback only; every loop is bounded in count and time."""

from __future__ import annotations

import itertools
import json
import os
import random
import shlex
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from kafka.admin import KafkaAdminClient
from redis.cluster import RedisCluster
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ARTIFACTS, ROOT
from tests.support.kafka import kafka_config

STACK = ROOT / "deploy" / "local" / "stack.sh"
STACK_DIR = Path(os.environ.get("CLUSTER_STACK_DIR", os.environ.get("STACK_DIR", ROOT / ".stack-cluster")))
RESULTS = ARTIFACTS / "cluster-results.jsonl"
CATEGORIES = ("cross_border_rmb", "factor_market")  # CNY only: the oracle needs no FX


def cluster_env() -> dict[str, str]:
    path = STACK_DIR / "stack.env"
    if not path.exists():
        raise RuntimeError(f"{path} missing: run `make test-cluster` (it starts the cluster stack)")
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = shlex.split(value)[0] if value else ""
    return values


def stack(*args: str, timeout: float = 400) -> None:
    # A SIGKILLed broker recovers its logs on restart: slow on a loaded 2-core machine.
    env = {**os.environ, **cluster_env(), "STACK_DIR": str(STACK_DIR), "READY_TIMEOUT": "300"}
    result = subprocess.run(
        ["bash", str(STACK), "--cluster", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"stack.sh --cluster {' '.join(args)} failed: {result.stderr[-2000:]}")


def pid_of(name: str) -> int:
    return int((STACK_DIR / "run" / f"{name}.pid").read_text().split()[0])  # "pid start-time"


def signal_node(name: str, sig: int) -> None:
    """Signal one engine process this stack started (its pid file), and wait for a kill."""
    pid = pid_of(name)
    os.kill(pid, sig)
    if sig in (signal.SIGKILL, signal.SIGTERM):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _dead(pid):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} (pid {pid}) still alive 60 s after signal {sig}")


def _dead(pid: int) -> bool:
    """Gone, or a zombie its parent has not reaped yet (it holds no port and no file)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


# ---------------------------------------------------------------- kafka
def kafka_admin(env: dict[str, str]) -> KafkaAdminClient:
    return KafkaAdminClient(**kafka_config(env), request_timeout_ms=10_000)


def partition_leaders(env: dict[str, str], topic: str) -> dict[int, int]:
    admin = kafka_admin(env)
    try:
        [described] = admin.describe_topics([topic])
        return {p["partition_index"]: p["leader_id"] for p in described["partitions"]}
    finally:
        admin.close()


def isr_full(env: dict[str, str], topic: str) -> bool:
    """Every partition of `topic` has its whole replica set in sync."""
    admin = kafka_admin(env)
    try:
        [described] = admin.describe_topics([topic])
        return all(len(p["isr_nodes"]) == len(p["replica_nodes"]) for p in described["partitions"])
    finally:
        admin.close()


def active_controller(env: dict[str, str]) -> int:
    """The KRaft quorum leader (DescribeQuorum on __cluster_metadata)."""
    admin = kafka_admin(env)
    try:
        quorum = admin.describe_metadata_quorum()
    finally:
        admin.close()
    return int(quorum["topics"][0]["partitions"][0]["leader_id"])


def controller_moved(env: dict[str, str], old: int) -> bool:
    try:
        leader = active_controller(env)
    except Exception:  # mid-election: no answer yet
        return False
    return leader not in (old, -1)


# ---------------------------------------------------------------- redis
def redis_cluster(env: dict[str, str]) -> RedisCluster:
    host, port = env["REDIS_URL"].rsplit("@", 1)[1].split(",")[0].split(":")
    return RedisCluster(host=host, port=int(port), password=env["REDIS_PASSWORD"], decode_responses=True)


def redis_node_name(env: dict[str, str], port: int) -> str:
    """The node behind a port the cluster announced: its own, or its toxiproxy port when
    the stack runs with NEMESIS_PROXY=1."""
    if env.get("NEMESIS_PROXY") == "1":
        return f"redis-{port - int(env['CLUSTER_REDIS_PROXY_PORT']) + 1}"
    return f"redis-{port - int(env['CLUSTER_REDIS_PORT']) + 1}"


def master_and_replica_of(env: dict[str, str], key: str) -> tuple[int, int]:
    """(master port, replica port) serving `key`'s slot."""
    client = redis_cluster(env)
    try:
        # redis-py's RedisCluster leaves these unannotated (5.x); the replies are checked below.
        slot = client.keyslot(key)  # type: ignore[no-untyped-call]
        shards = client.execute_command("CLUSTER SHARDS", target_nodes=client.get_random_node())  # type: ignore[no-untyped-call]
    finally:
        client.close()
    for shard in shards:
        shard = _as_dict(shard)
        ranges = shard["slots"]
        if any(int(ranges[i]) <= slot <= int(ranges[i + 1]) for i in range(0, len(ranges), 2)):
            nodes = [_as_dict(n) for n in shard["nodes"]]
            master = [int(n["port"]) for n in nodes if n["role"] == "master" and n["health"] == "online"]
            replica = [int(n["port"]) for n in nodes if n["role"] == "replica" and n["health"] == "online"]
            return master[0], replica[0]
    raise RuntimeError(f"no shard serves slot {slot}")


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    return {str(item[i]): item[i + 1] for i in range(0, len(item), 2)}


def redis_cluster_ok(env: dict[str, str]) -> bool:
    try:
        client = redis_cluster(env)
        try:
            return all(
                _info_ok(client.execute_command("CLUSTER INFO", target_nodes=node))  # type: ignore[no-untyped-call]
                for node in client.get_nodes()  # type: ignore[no-untyped-call]
            )
        finally:
            client.close()
    except Exception:  # mid-failover: not ok yet
        return False


def _info_ok(info: Any) -> bool:
    if isinstance(info, dict):
        return str(info.get("cluster_state")) == "ok"
    return "cluster_state:ok" in str(info)


# ---------------------------------------------------------------- postgres
def create_database(env: dict[str, str], tag: str) -> str:
    base = env["DATABASE_URL"]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "c_{tag}"'))
    finally:
        admin.dispose()
    return make_url(base).set(database=f"c_{tag}").render_as_string(hide_password=False)


def scalar(db_url: str, sql: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- intake
@dataclass(slots=True)
class Intake:
    """Background intake over HTTP from several banks at a bounded rate. Every batch is
    retried with the same event ids until acknowledged (202-accepted or duplicate), so each
    event is acknowledged exactly once in the oracle; a 503 in between is expected."""

    ingest_url: str
    bank_keys: dict[str, str]
    rate_per_s: float = 120.0
    batch: int = 10
    seed: int = 7
    acknowledged: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    ack_times: dict[str, list[float]] = field(default_factory=dict)
    unavailable: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    error: BaseException | None = None

    def start(self) -> None:
        for n, (bank, key) in enumerate(sorted(self.bank_keys.items())):
            thread = threading.Thread(target=self._run, args=(bank, key, n), daemon=True, name=f"intake-{bank}")
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 120) -> None:
        """Stop sending new batches; wait for the in-flight ones to be acknowledged."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"{thread.name} still retrying after {timeout}s")
        if self.error is not None:
            raise RuntimeError("intake thread failed") from self.error

    def _run(self, bank: str, key: str, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        interval = self.batch * len(self.bank_keys) / self.rate_per_s
        headers = {"Authorization": f"Bearer {key}"}
        seq = 0
        try:
            with httpx.Client(base_url=self.ingest_url, headers=headers, timeout=30) as client:
                while not self._stop.is_set():
                    started = time.monotonic()
                    events = []
                    for _ in range(self.batch):
                        seq += 1
                        amount = Decimal(rng.randint(1, 10_000_000)) / 100
                        events.append(
                            {
                                "event_id": f"{bank}-{seq}",
                                "category": CATEGORIES[seq % len(CATEGORIES)],
                                "amount": str(amount),
                                "currency": "CNY",
                                "value_date": "2020-06-15",
                                "direction": "inbound",
                                "counterparty_country": "SG",
                            }
                        )
                    self._send_until_acknowledged(client, bank, events)
                    time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def _send_until_acknowledged(self, client: httpx.Client, bank: str, events: list[dict[str, str]]) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                response = client.post("/v1/events/batch", json={"events": events})
            except httpx.HTTPError:
                response = None
            status = response.status_code if response is not None else 0
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                body = response.json() if response is not None else {}
                done, again = [], []
                for event, result in zip(events, body["results"], strict=True):
                    if result["status"] in ("accepted", "duplicate"):
                        done.append(event)
                    elif (result.get("problem") or {}).get("status") == 503:
                        again.append(event)  # a copy of it is still in flight: retry it
                    else:
                        raise AssertionError(f"intake rejected a valid event: {result}")
                now = time.monotonic()
                with self._lock:
                    for e in done:
                        self.acknowledged[(bank, e["event_id"])] = Decimal(e["amount"])
                    if done:
                        self.ack_times.setdefault(bank, []).append(now)
                if not again:
                    return
                events = again
                time.sleep(0.5)
                continue
            if status not in (0, 429, 503):
                raise AssertionError(f"unexpected intake answer {status}: {response.text if response else ''}")
            with self._lock:
                self.unavailable += 1
            time.sleep(0.5)
        raise AssertionError("a batch was not acknowledged within 300 s")

    def oracle(self) -> dict[str, Decimal]:
        totals = {c: Decimal(0) for c in CATEGORIES}
        for (_, event_id), amount in self.acknowledged.items():
            seq = int(event_id.rsplit("-", 1)[1])
            totals[CATEGORIES[seq % len(CATEGORIES)]] += amount
        return totals

    def longest_gap_after(self, since: float) -> float:
        """The longest time any one bank went without an acknowledgement after `since`
        (the fault): how long intake was unavailable to the worst-placed bank."""
        gaps = [0.0]
        for times in self.ack_times.values():
            points = [since, *sorted(t for t in times if t >= since)]
            gaps.extend(b - a for a, b in itertools.pairwise(points))
        return max(gaps)


@dataclass(frozen=True, slots=True)
class Outcome:
    test: str
    acknowledged: int
    in_ledger: int
    duplicates: int
    drift: int
    recovery_s: float
    note: str = ""

    def record(self) -> str:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        row = {
            "test": self.test,
            "acknowledged": self.acknowledged,
            "in_ledger": self.in_ledger,
            "duplicates": self.duplicates,
            "drift": self.drift,
            "recovery_s": round(self.recovery_s, 1),
            "note": self.note,
        }
        with RESULTS.open("a") as out:
            out.write(json.dumps(row) + "\n")
        return (
            f"{self.test}: acknowledged={self.acknowledged} in_ledger={self.in_ledger} "
            f"duplicates={self.duplicates} drift={self.drift} recovery={self.recovery_s:.1f}s {self.note}"
        )


def new_tag() -> str:
    return uuid.uuid4().hex[:10]


def wait_until(what: str, predicate: Any, timeout: float, interval: float = 0.5) -> float:
    """Poll until `predicate()` is true; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s")


def iter_metric(text_body: str, name: str) -> Iterator[tuple[str, float]]:
    for line in text_body.splitlines():
        if line.startswith(name + "{"):
            labels, _, value = line.rpartition(" ")
            yield labels, float(value)


def committed_offsets(env: dict[str, str]) -> dict[int, int]:
    """The group's offsets as committed to Kafka (advisory: the ledger is the record)."""
    admin = kafka_admin(env)
    try:
        offsets = admin.list_group_offsets({env["CONSUMER_GROUP"]: None})[env["CONSUMER_GROUP"]]
        return {tp.partition: int(meta.offset) for tp, meta in offsets.items() if tp.topic == env["EVENTS_TOPIC"]}
    finally:
        admin.close()


def as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    """PostgreSQL server tools run as the postgres user when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, check=False)


def delete_topics(env: dict[str, str], topics: list[str]) -> None:
    """Fewer logs for a restarted broker to recover in the next test."""
    admin = kafka_admin(env)
    try:
        admin.delete_topics(topics, timeout_ms=30_000)
    finally:
        admin.close()
