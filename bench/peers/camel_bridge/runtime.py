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

from bench.config import BenchConfig, Log
from bench.intake import measure_case
from bench.namespace import delete_topics
from bench.processes import LOG_DIR, free_port, tree_cpu_seconds
from bench.results import BridgeResult
from bench.wrk import ensure_wrk
from settlement_core.kafka_io import ensure_topics

HERE = Path(__file__).resolve().parent
CAMEL_VERSION = "4.22.0"
PEER = f"Apache Camel {CAMEL_VERSION} (platform-http-vertx + kafka), Strimzi bridge produce API"
MAIN_CLASS = "bridge.CamelKafkaBridge"
SOURCE = HERE / "src" / "bridge" / "CamelKafkaBridge.java"
PARTITIONS = 12


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

    def __init__(self, bootstrap: str, tag: str, log: Log) -> None:
        cache = ensure_built(log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{tag}-bridge.log"
        env = {**os.environ, "BRIDGE_PORT": str(self.port), "BRIDGE_KAFKA_BOOTSTRAP": bootstrap}
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


def run_bridge(cfg: BenchConfig, base: dict[str, str], log: Log) -> BridgeResult:
    wrk = ensure_wrk(log)
    bootstrap = base["KAFKA_BOOTSTRAP"]
    tag = f"bridge-{uuid.uuid4().hex[:8]}"
    topic = f"bench.{tag}.events"
    ensure_topics(bootstrap, {topic: PARTITIONS})
    # Bank ids as record keys, as ingest keys the topic by the authenticated bank.
    keys = [f"bench-bank-{i:03d}" for i in range(cfg.intake_banks)]
    target = {"BENCH_TARGET": "bridge", "BENCH_PATH": f"/topics/{topic}"}
    bridge = BridgeProcess(bootstrap, tag, log)
    try:
        bridge.wait_healthy()
        warm_up(bridge, target["BENCH_PATH"], keys)
        cases = [measure_case(cfg, bridge, keys, c, 0, wrk, log, target) for c in cfg.single_concurrency]
        cases += [measure_case(cfg, bridge, keys, cfg.batch_concurrency, b, wrk, log, target) for b in cfg.batch_sizes]
    finally:
        bridge.stop()
        delete_topics(bootstrap, [topic])
    singles = [c for c in cases if not c.batch]
    batched = [c for c in cases if c.batch]
    return BridgeResult(
        peer=PEER,
        cases=tuple(cases),
        best_single=max(singles, key=lambda c: c.requests_per_s.median).label,
        best_batched=max(batched, key=lambda c: c.events_per_s.median).label,
    )
