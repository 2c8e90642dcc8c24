"""The intake peer's runtime and its benchmark stage.

The jars come from Maven Central with mvn (pom.xml beside this file) into
~/.cache/settlement-tracker/camel-bridge-<version>/libs, the one Java class is compiled there
with javac, and the bridge runs as its own JVM on a free port against the stack's broker.
The stage measures it with the intake stage's cases, wrk and event generator, on a fresh
topic with the events topic's settings, so "ours ÷ bridge" compares the same work.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from bench.config import LOG_DIR, BenchConfig, Log
from bench.harness.kafka import EVENTS_PARTITIONS, bench_access, delete_topics
from bench.harness.processes import free_port, tree_cpu_seconds
from bench.load.wrk import ensure_wrk
from bench.reporting.results import BridgeResult, IntakeCase
from bench.stages.intake import measure_case
from settlement_core.kafka_io import KafkaAccess, ensure_topics, java_client_properties

HERE = Path(__file__).resolve().parent
CAMEL_VERSION = "4.22.0"
PEER = f"Apache Camel {CAMEL_VERSION} (platform-http-vertx + kafka), Strimzi bridge produce API"
MAIN_CLASS = "bridge.CamelKafkaBridge"
SOURCE = HERE / "src" / "bridge" / "CamelKafkaBridge.java"


def cache_dir() -> Path:
    base = Path(os.environ.get("SETTLEMENT_CACHE", Path.home() / ".cache" / "settlement-tracker"))
    return base / f"camel-bridge-{CAMEL_VERSION}"


def ensure_built(log: Log) -> Path:
    """Fetch the jars once and compile the bridge when its source changed; returns the cache."""
    cache = cache_dir()
    libs, classes = cache / "libs", cache / "classes"
    if not (libs / f"camel-kafka-{CAMEL_VERSION}.jar").exists():
        log(f"  fetching Apache Camel {CAMEL_VERSION} jars with mvn into {libs}")
        libs.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(HERE / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs}",
            ],
            check=True,
            timeout=900,
        )
    compiled = classes / "bridge" / "CamelKafkaBridge.class"
    if not compiled.exists() or compiled.stat().st_mtime < SOURCE.stat().st_mtime:
        log("  compiling the bridge")
        classes.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-d", str(classes), "-cp", f"{libs}/*", str(SOURCE)], check=True, timeout=300)
    return cache


class BridgeProcess:
    """The bridge JVM on a free loopback port; `url` and `cpu_seconds` like a ServiceProcess."""

    def __init__(self, access: KafkaAccess, tag: str, log: Log) -> None:
        cache = ensure_built(log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{tag}-bridge.log"
        props = java_client_properties(access)  # the `bench` principal
        env = {
            **os.environ,
            "BRIDGE_PORT": str(self.port),
            "BRIDGE_KAFKA_BOOTSTRAP": access.bootstrap,
            "BRIDGE_KAFKA_SECURITY_PROTOCOL": props["security.protocol"],
            "BRIDGE_KAFKA_SASL_MECHANISM": props.get("sasl.mechanism", ""),
            "BRIDGE_KAFKA_SASL_JAAS_CONFIG": props.get("sasl.jaas.config", ""),
        }
        command = ["java", "-Xms256m", "-Xmx512m", "-cp", f"{cache / 'classes'}:{cache / 'libs'}/*", MAIN_CLASS]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(command, env=env, stdout=out, stderr=out)

    def wait_healthy(self, timeout: float = 180.0) -> None:
        # Generous: on the shared 2-core machine a service's imports alone took over 90 s.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"bridge exited with {self.proc.returncode}:\n{tail}")
            try:
                if httpx.get(f"{self.url}/healthy", timeout=1.0).status_code < 300:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"bridge not healthy after {timeout}s (log: {self.log_path})")

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def warm_up(bridge: BridgeProcess, path: str, keys: list[str]) -> None:
    """Producer connection and topic metadata before any timed request; checks the answer."""
    body = {"records": [{"key": k, "value": {"warm": "up"}} for k in keys]}
    answer = httpx.post(
        f"{bridge.url}{path}", json=body, headers={"Content-Type": "application/vnd.kafka.json.v2+json"}, timeout=90
    )
    offsets = answer.json().get("offsets", []) if answer.status_code == 200 else []
    if len(offsets) != len(keys):
        raise RuntimeError(f"bridge warm-up failed: {answer.status_code} {answer.text[:500]}")


class BridgeSession:
    """The bridge on its own topic, measured case by case: `measure(concurrency, batch)` is
    the intake stage's `after_case` hook, or called in a loop by `run_bridge`. A failure is
    kept in `error` and stops further cases without taking our intake figures with it."""

    def __init__(self, cfg: BenchConfig, base: dict[str, str], log: Log) -> None:
        self.cfg = cfg
        self.log = log
        self.wrk = ensure_wrk(log)
        self.admin = KafkaAccess.from_env(base)
        self.bootstrap = self.admin.bootstrap
        tag = f"bridge-{uuid.uuid4().hex[:8]}"
        self.topic = f"bench.{tag}.events"
        # Bank ids as record keys, as ingest keys the topic by the authenticated bank.
        self.keys = [f"bench-bank-{i:03d}" for i in range(cfg.intake_banks)]
        self.target = {"BENCH_TARGET": "bridge", "BENCH_PATH": f"/topics/{self.topic}"}
        self.cases: list[IntakeCase] = []
        self.error: str | None = None
        ensure_topics(self.admin, {self.topic: EVENTS_PARTITIONS})
        self.bridge = BridgeProcess(bench_access(base), tag, log)
        try:
            self.bridge.wait_healthy()
            warm_up(self.bridge, self.target["BENCH_PATH"], self.keys)
        except BaseException:
            self.close()
            raise

    def measure(self, concurrency: int, batch: int) -> None:
        if self.error is not None:
            return
        try:
            self.cases.append(
                measure_case(self.cfg, self.bridge, self.keys, concurrency, batch, self.wrk, self.log, self.target)
            )
        except Exception as exc:  # the peer failing must not lose our own figures
            self.error = f"{type(exc).__name__}: {str(exc)[:800]}"
            self.log(f"  bridge FAILED: {self.error}")

    def result(self) -> BridgeResult:
        if self.error is not None:
            raise RuntimeError(self.error)
        singles = [c for c in self.cases if not c.batch]
        batched = [c for c in self.cases if c.batch]
        return BridgeResult(
            peer=PEER,
            cases=tuple(self.cases),
            best_single=max(singles, key=lambda c: c.requests_per_s.median).label,
            best_batched=max(batched, key=lambda c: c.events_per_s.median).label,
        )

    def close(self) -> None:
        self.bridge.stop()
        delete_topics(self.admin, [self.topic])


def run_bridge(cfg: BenchConfig, base: dict[str, str], log: Log) -> BridgeResult:
    """The bridge alone (`--only bridge`): the intake stage's cases, one after the other."""
    session = BridgeSession(cfg, base, log)
    try:
        for concurrency in cfg.single_concurrency:
            session.measure(concurrency, 0)
        for batch in cfg.batch_sizes:
            session.measure(cfg.batch_concurrency, batch)
        return session.result()
    finally:
        session.close()
