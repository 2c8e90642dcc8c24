"""The nemesis: runs a Plan (tests/nemesis/schedule.py) against the cluster stack, one
thread a fault, and writes each fault's real start and heal to the history. Process faults
use the pid files of the stack (engines) and of the test's ServiceRunner (services), as the
cluster tests do (tests/cluster/harness.py); network faults use toxiproxy. `heal_all` at the
end resumes, restarts and reconnects whatever is still broken."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.cluster import harness
from tests.nemesis.history import Recorder
from tests.nemesis.schedule import Action, Fault, Plan
from tests.nemesis.toxiproxy import PROXIES, Toxiproxy
from tests.support.ports import port_env
from tests.support.services import ServiceRunner, wait_http

MODULES = {"ingest": "settlement_ingest", "api": "settlement_api", "aggregate": "settlement_aggregate"}
KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")
REDIS_NODES = tuple(f"redis-{i}" for i in range(1, 7))


@dataclass(slots=True)
class Nemesis:
    env: dict[str, str]
    services: ServiceRunner
    ports: dict[str, int]  # service name -> its port
    recorder: Recorder
    seed: int
    toxiproxy: Toxiproxy | None = None
    errors: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    promoted: bool = False
    _lanes: dict[str, threading.Lock] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _paused: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------- running a plan
    def run(self, plan: Plan, t0: float, stop: threading.Event) -> None:
        """Start each fault at t0 + at_s (monotonic); returns when all have healed."""
        for n, fault in enumerate(plan.faults):
            delay = t0 + fault.at_s - time.monotonic()
            if stop.wait(max(0.0, delay)):
                break
            lane = self._lanes.setdefault(fault.lane, threading.Lock())
            thread = threading.Thread(target=self._one, args=(fault, n, lane, stop), daemon=True, name=f"fault-{n}")
            thread.start()
            self._threads.append(thread)
        for thread in self._threads:
            thread.join(timeout=600)

    def _one(self, fault: Fault, n: int, lane: threading.Lock, stop: threading.Event) -> None:
        rng = random.Random(self.seed * 100_003 + n)
        # A late heal (a broker restart takes 20-70 s on the loaded machine) delays the
        # lane's next fault; one still waiting when the campaign ends is skipped.
        while not lane.acquire(timeout=0.5):
            if stop.is_set():
                self.skipped.append(n)
                return
        try:
            self._run_one(fault, n, rng)
        finally:
            lane.release()

    def _run_one(self, fault: Fault, n: int, rng: random.Random) -> None:
        started = time.time()
        target = "?"
        try:
            target = self._apply(fault, rng)
        except Exception as exc:
            self.errors.append(f"fault {n} {fault.fault_class} {fault.role}: {type(exc).__name__}: {exc}")
        finally:
            self.recorder.write(
                {
                    "type": "fault",
                    "n": n,
                    "class": fault.fault_class,
                    "role": fault.role,
                    "target": target,
                    "action": fault.action.value,
                    "params": dict(fault.params),
                    "planned_at_s": fault.at_s,
                    "started": round(started, 3),
                    "healed": round(time.time(), 3),
                }
            )

    def _apply(self, fault: Fault, rng: random.Random) -> str:
        if fault.lane.startswith("net:"):
            return self._network(fault)
        if fault.lane.startswith("service:"):
            return self._service(fault)
        if fault.lane == "kafka":
            name = self._kafka_node(fault.role, rng)
            self._engine_signal(name, fault)
            return name
        if fault.lane == "redis":
            name = self._redis_node(fault.role, rng)
            self._engine_signal(name, fault)
            return name
        if fault.lane == "postgres":
            return self._postgres(fault)
        raise ValueError(f"unknown lane {fault.lane}")

    # ---------------------------------------------------------------- services
    def _service(self, fault: Fault) -> str:
        name = fault.role
        proc = self.services.procs[name]
        if fault.action is Action.PAUSE:
            self._pause([proc.pid], fault.duration_s)
            return name
        proc.send_signal(signal.SIGKILL if fault.action is Action.SIGKILL else signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGTERM not obeyed within 60 s: the finding is in the log
            proc.wait(timeout=30)
            self.errors.append(f"{name} ignored SIGTERM for 60 s")
        time.sleep(fault.duration_s)
        self.restart_service(name)
        return name

    def restart_service(self, name: str) -> None:
        module = MODULES[name.split("-", 1)[0]]
        port = self.ports[name]
        self.services.start(name, module, None, port_env(module, port))
        wait_http(
            f"http://127.0.0.1:{port}/healthz", proc=self.services.procs[name], name=name, logdir=self.services.logdir
        )

    # ---------------------------------------------------------------- engines
    def _kafka_node(self, role: str, rng: random.Random) -> str:
        if role == "kafka:controller":
            try:
                return f"kafka-{harness.active_controller(self.env)}"
            except Exception:  # no quorum answer now: any broker will do
                pass
        return rng.choice(KAFKA_NODES)

    def _redis_direct(self, name: str) -> redis.Redis:
        port = int(self.env["CLUSTER_REDIS_PORT"]) + int(name.rsplit("-", 1)[1]) - 1
        return redis.Redis(port=port, password=self.env["REDIS_PASSWORD"], socket_timeout=3, decode_responses=True)

    def _redis_node(self, role: str, rng: random.Random) -> str:
        want = "master" if role == "redis:master" else "slave"
        nodes = []
        for name in REDIS_NODES:
            try:
                if str(self._redis_direct(name).role()[0]) == want:
                    nodes.append(name)
            except redis.RedisError:
                continue
        if not nodes:
            raise RuntimeError(f"no live redis {want}")
        return rng.choice(nodes)

    def _engine_signal(self, name: str, fault: Fault) -> None:
        if fault.action is Action.PAUSE:
            self._pause([harness.pid_of(name)], fault.duration_s)
            return
        harness.signal_node(name, signal.SIGKILL if fault.action is Action.SIGKILL else signal.SIGTERM)
        time.sleep(fault.duration_s)
        harness.stack("start", name)

    def _postgres(self, fault: Fault) -> str:
        if self.promoted:
            raise RuntimeError("no PostgreSQL node fault after the promotion (the schedule allows none)")
        pg_ctl = f"{self.env['PG_BIN']}/pg_ctl"
        primary = f"{self.env['PG_HOME']}/primary"
        if fault.action is Action.PAUSE:
            pid = harness.pid_of("pg-primary")
            self._pause([pid, *_children(pid)], fault.duration_s)
            return "pg-primary"
        # A crash: immediate stop (SIGQUIT to the postmaster, every backend exits at once,
        # crash recovery on the next start). A SIGKILL of the postmaster alone would leave
        # its backends holding the shared memory until they notice.
        stopped = harness.as_postgres(pg_ctl, "-D", primary, "-m", "immediate", "stop")
        if stopped.returncode != 0:
            raise RuntimeError(f"pg_ctl stop: {stopped.stderr}")
        time.sleep(fault.duration_s)
        if fault.action is Action.PROMOTE:
            promoted = harness.as_postgres(pg_ctl, "-D", f"{self.env['PG_HOME']}/standby", "-w", "promote")
            if promoted.returncode != 0:
                raise RuntimeError(f"pg_ctl promote: {promoted.stderr}")
            self.promoted = True
            return "pg-primary->pg-standby"
        harness.stack("start", "postgres")
        return "pg-primary"

    def _pause(self, pids: list[int], seconds: float) -> None:
        with self._lock:
            self._paused.update(pids)
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        time.sleep(seconds)
        for pid in pids:
            _signal(pid, signal.SIGCONT)
        with self._lock:
            self._paused.difference_update(pids)

    # ---------------------------------------------------------------- network
    def _network(self, fault: Fault) -> str:
        if self.toxiproxy is None:
            raise RuntimeError("network fault without toxiproxy: start the stack with NEMESIS_PROXY=1")
        proxies = PROXIES[fault.lane]
        params = dict(fault.params)
        if fault.action is Action.PARTITION:
            for proxy in proxies:
                self.toxiproxy.set_enabled(proxy, False)
            time.sleep(fault.duration_s)
            for proxy in proxies:
                self.toxiproxy.set_enabled(proxy, True)
        else:
            for proxy in proxies:
                self.toxiproxy.add_toxic(proxy, fault.action.value, params)
            time.sleep(fault.duration_s)
            for proxy in proxies:
                self.toxiproxy.remove_toxic(proxy)
        return ",".join(proxies)

    # ---------------------------------------------------------------- the end
    def heal_all(self) -> list[str]:
        """Resume every paused process, clear the network, restart what is down. Returns
        what it had to do (empty when every fault had healed itself)."""
        done = []
        with self._lock:
            paused = list(self._paused)
        for pid in paused:
            _signal(pid, signal.SIGCONT)
            done.append(f"SIGCONT {pid}")
        if self.toxiproxy is not None:
            self.toxiproxy.reset()
        for name in (*KAFKA_NODES, *REDIS_NODES):
            if not _alive(harness.STACK_DIR / "run" / f"{name}.pid"):
                harness.stack("start", name)
                done.append(f"restarted {name}")
        # After a promotion (this campaign's or an earlier one's on the same stack) the old
        # primary must stay down: started again it would be a second writable primary.
        standby_waiting = (Path(self.env["PG_HOME"]) / "standby" / "standby.signal").exists()
        if not self.promoted and standby_waiting and not _alive(harness.STACK_DIR / "run" / "pg-primary.pid"):
            harness.stack("start", "postgres")
            done.append("restarted pg-primary")
        for name, proc in list(self.services.procs.items()):
            if name in self.ports and proc.poll() is not None:
                self.restart_service(name)
                done.append(f"restarted {name}")
        return done


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ValueError, IndexError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
