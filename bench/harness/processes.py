"""Service processes started by the benchmark on free ports, and CPU accounting.

CPU is read from /proc so that every process (services, load generator, Kafka tools) is
measured the same way, from outside, without instrumenting it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.support.ports import free_port

from bench.config import LOG_DIR
from bench.load.catalogue import CATEGORY_CODES
from bench.reporting.tool_output import machine_cpu_ticks, proc_cpu_ticks

__all__ = ["free_port"]  # bench stages take their ports from here

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")

SERVICES: dict[str, tuple[str, str | None]] = {
    "ingest": ("settlement_ingest", "INGEST_PORT"),
    "aggregate": ("settlement_aggregate", "AGGREGATE_PORT"),
    "api": ("settlement_api", "API_PORT"),
    # The transparency-log integrator has no port: it is ready once it logs its start.
    "integrator": ("settlement_aggregate.integrator", None),
}
# What a service without a port logs once it has parsed its settings and keys.
STARTED_LINE = {"integrator": "integrator started"}


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its reaped children; 0 once it is gone."""
    try:
        return proc_cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / CLOCK_TICKS
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def live_children(pid: int) -> list[int]:
    """Direct children of a process (e.g. the uvicorn workers of a supervisor)."""
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return children


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and every descendant, live or reaped."""
    return process_cpu_seconds(pid) + sum(tree_cpu_seconds(c) for c in live_children(pid))


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and its live descendants (ingest runs workers)."""
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0
    return resident + sum(tree_rss_bytes(c) for c in live_children(pid))


@dataclass(frozen=True, slots=True)
class CpuMark:
    at: float
    busy: int
    total: int


def machine_mark() -> CpuMark:
    busy, total = machine_cpu_ticks(Path("/proc/stat").read_text())
    return CpuMark(time.monotonic(), busy, total)


def machine_busy_percent(start: CpuMark, end: CpuMark) -> float:
    """Share of the whole machine busy between two marks (100 % = every core busy)."""
    total = end.total - start.total
    return 100.0 * (end.busy - start.busy) / total if total > 0 else float("nan")


class ServiceProcess:
    """One real service (`python -m settlement_<name>`) in a benchmark namespace."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        tag: str,
        wrapper: list[str] | None = None,
        unset: tuple[str, ...] = (),
    ) -> None:
        """`unset`: variables the process must not inherit (e.g. the log's keys, so a run with
        the log off cannot pick them up from the caller's environment)."""
        module, port_var = SERVICES[name]
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{tag}-{name}.log"
        # Appended to across restarts: readiness is judged on what this start wrote.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        full_env = {**os.environ, **env, **({port_var: str(self.port)} if port_var else {})}
        for name_ in unset:
            full_env.pop(name_, None)
        command = [*(wrapper or []), sys.executable, "-m", module]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, env=full_env, stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_healthy(self, timeout: float = 180.0) -> None:
        # Generous: on the shared 2-core machine a service's imports alone took over 90 s.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            if self._ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s (log: {self.log_path})")

    def _ready(self) -> bool:
        started = STARTED_LINE.get(self.name)
        if started is not None:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return started.encode() in log.read()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def cpu_seconds(self) -> float:
        """The whole process tree: ingest may run as a supervisor with worker processes."""
        return tree_cpu_seconds(self.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass(frozen=True, slots=True)
class LoadgenRun:
    """What the load generator process reported, plus its CPU as seen from outside."""

    report: dict[str, Any]
    cpu_seconds: float
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class MeasuredRun:
    """A tool run to completion as a child process, measured from outside."""

    stdout: str
    stderr: str
    cpu_seconds: float
    wall_seconds: float


def run_measured(
    name: str,
    command: list[str],
    timeout: float,
    input_text: str | None = None,
    env: dict[str, str] | None = None,
    error_tail: int = 2000,
) -> MeasuredRun:
    """Run a load generator or one of Kafka's tools to the end and take its CPU seconds from
    the children's rusage (the harness runs one such child at a time) and its wall time; a
    non-zero exit raises with the tail of its stderr."""
    before = os.times()
    started = time.monotonic()
    proc = subprocess.run(
        command, input=input_text, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.monotonic() - started
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}): {proc.stderr[-error_tail:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return MeasuredRun(proc.stdout, proc.stderr, cpu, wall)


def generator_input(spec: dict[str, Any]) -> str:
    """The generator's JSON spec, with the seed catalogue's category codes."""
    return json.dumps({"categories": list(CATEGORY_CODES), **spec})


def run_loadgen(spec: dict[str, Any], timeout: float) -> LoadgenRun:
    """Run `python -m bench.load.generator` as its own process: its CPU must not be confused with
    the services' and is reported separately."""
    run = run_measured(
        "loadgen",
        [sys.executable, "-m", "bench.load.generator"],
        timeout,
        input_text=generator_input(spec),
        error_tail=3000,
    )
    return LoadgenRun(json.loads(run.stdout), run.cpu_seconds, run.wall_seconds)
