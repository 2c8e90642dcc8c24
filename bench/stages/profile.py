"""Stage 7: profile the service behind the stage furthest from its goal with py-spy.

py-spy samples a running process from outside (all threads, no code change, little
overhead), so the profile is of the same service, started the same way, under the same load
as the measured stage.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

from bench.config import LOG_DIR, BenchConfig, Log
from bench.harness.namespace import VENV_BIN, open_namespace
from bench.harness.processes import ServiceProcess, run_loadgen
from bench.load.history import HistoryLoader
from bench.load.prefill import PrefilledTopic
from bench.load.wrk import ensure_wrk, run_wrk
from bench.reporting.results import ProfileLine, ProfileResult
from bench.reporting.tool_output import HotFunction, hot_functions
from bench.stages.aggregator import applied_count
from bench.stages.reads import ENDPOINTS


def _py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(VENV_BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
            "--subprocesses",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(spy: subprocess.Popen[bytes], output: Path, stage: str, service: str, seconds: float) -> ProfileResult:
    _, err = spy.communicate(timeout=seconds + 60)
    if not output.exists():
        raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-1500:]}")
    profile = hot_functions(output.read_text(), top=15, focus=("settlement_",))

    def lines(rows: tuple[HotFunction, ...]) -> tuple[ProfileLine, ...]:
        return tuple(ProfileLine(r.function, r.self_pct, r.total_pct) for r in rows)

    return ProfileResult(
        stage=stage,
        service=service,
        tool="py-spy 0.4 (record --format raw)",
        seconds=seconds,
        samples=profile.samples,
        idle_samples=profile.idle_samples,
        by_self=lines(profile.by_self),
        by_total=lines(profile.by_total),
    )


def profile_service(
    cfg: BenchConfig, base: dict[str, str], stage: str, service_name: str, source: PrefilledTopic | None, log: Log
) -> ProfileResult:
    seconds = cfg.profile_seconds
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    output = LOG_DIR / f"profile-{service_name}-{uuid.uuid4().hex[:6]}.txt"
    with open_namespace(base, f"prof{service_name[:3]}") as ns:
        env = source.environment(ns) if service_name == "aggregate" and source else ns.env
        banks = ns.add_banks(8) if service_name == "ingest" else []
        operator = ns.add_operator() if service_name == "api" else ""
        if service_name == "api":
            HistoryLoader(
                ns.database_url, ns.env["REDIS_URL"], ns.env["EVENTS_TOPIC"], ns.env["CONSUMER_GROUP"]
            ).load_to(cfg.history_levels[0])
        service = ServiceProcess(service_name, env, ns.tag)
        try:
            service.wait_healthy()
            log(f"  py-spy on {service_name} (pid {service.pid}) for {seconds:.0f} s")
            spy = _py_spy(service.pid, seconds, output)
            if service_name == "ingest":
                # Under the load of the goal that was missed: single POSTs or batches.
                single = "single" in stage
                keys = [b.key for b in banks]
                concurrency = max(cfg.single_concurrency) if single else cfg.batch_concurrency
                batch = 0 if single else 100
                wrk = ensure_wrk(log)
                if wrk:
                    run_wrk(wrk, service.url, keys, batch, concurrency, seconds + 1, f"p{uuid.uuid4().hex[:8]}")
                else:
                    run_loadgen(
                        {
                            "mode": "closed",
                            "url": service.url,
                            "keys": keys,
                            "concurrency": concurrency,
                            "batch": batch,
                            "duration": seconds + 1,
                            "warmup": 0.0,
                            "id_prefix": f"p{uuid.uuid4().hex[:8]}",
                        },
                        timeout=seconds + 120,
                    )
            elif service_name == "api":
                run_loadgen(
                    {
                        "mode": "reads",
                        "url": service.url + ENDPOINTS["GET /v1/progress"],
                        "requests": int(seconds * 300),
                        "concurrency": 2,
                        "key": operator,
                    },
                    timeout=seconds + 300,
                )
            else:
                time.sleep(seconds)
                log(f"  aggregate applied {applied_count(ns.redis()):,} events while profiled")
            result = _finish(spy, output, stage, service_name, seconds)
        finally:
            service.stop()
    log(f"  profile: {result.samples} samples, saved {output}")
    return result
