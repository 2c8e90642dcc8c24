"""wrk as the intake load generator: a C client costs ~1/50 of httpx's CPU per request, so
on this 2-core machine it leaves the cores to ingest, and a single-POST rate in the
thousands is ingest's figure rather than the client's. Debian's `wrk` package is installed
on first use when missing (root only); without it the httpx load generator is used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.config import Log
from bench.harness.processes import run_measured
from bench.load.catalogue import CATEGORY_CODES
from bench.reporting.tool_output import WrkSummary, parse_wrk

SCRIPT = Path(__file__).with_name("wrk_intake.lua")


def ensure_wrk(log: Log) -> str | None:
    found = shutil.which("wrk")
    # "httpx" is the flag's older name, from before the Python generator left httpx.
    if os.environ.get("BENCH_LOADGEN") in ("python", "httpx"):
        return None
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("  wrk missing and cannot be installed here; using the Python load generator")
        return None
    log("  installing Debian's wrk for the intake load generator")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "-qq", "wrk"],
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "wrk"],
    ):
        subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
        if shutil.which("wrk"):
            break
    found = shutil.which("wrk")
    if not found:
        log("  wrk could not be installed; using the Python load generator")
    return found


@dataclass(frozen=True, slots=True)
class WrkRun:
    summary: WrkSummary
    cpu_seconds: float
    wall_seconds: float


def run_wrk(
    wrk: str,
    url: str,
    keys: list[str],
    batch: int,
    concurrency: int,
    seconds: float,
    prefix: str,
    target: dict[str, str] | None = None,
) -> WrkRun:
    """`target` is extra script configuration: {"BENCH_TARGET": "bridge", "BENCH_PATH": ...}
    sends the same events to the intake peer instead of ingest."""
    # wrk takes whole seconds only.
    threads = max(1, min(2, concurrency))
    env = {
        **os.environ,
        "BENCH_KEYS": ",".join(keys),
        "BENCH_CATEGORIES": ",".join(CATEGORY_CODES),
        "BENCH_BATCH": str(batch),
        "BENCH_PREFIX": prefix,
        "BENCH_TARGET": "ingest",
        **(target or {}),
    }
    run = run_measured(
        "wrk",
        [
            wrk,
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(SCRIPT),
            url,
        ],
        seconds + 120,
        env=env,
        error_tail=1500,
    )
    return WrkRun(parse_wrk(run.stdout), run.cpu_seconds, run.wall_seconds)
