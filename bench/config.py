"""Benchmark sizes. `full` is what issue 6 asks for and fits in ~45 minutes on the 2-core
machine; `quick` is a smoke run of a few minutes; BENCH_SCALE (or --scale) multiplies the
event counts of either, so a mid-sized run needs no code change.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# Service logs and raw profiles of a run (git-ignored).
LOG_DIR = RESULTS_DIR / "logs"
# The catalogue the bench stack runs with: its category codes are the ones events carry.
SEED_CATALOGUE = ROOT / "seeds" / "targets.yaml"

# Progress lines go to stderr as the run goes; the summary goes to stdout at the end.
Log = Callable[[str], None]


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


STAGES = ("intake", "bridge", "aggregator", "quix", "e2e", "receipts", "reads", "growth", "profile")
# `--only peers` runs both peers of issue 16: the intake peer and the aggregation peer.
ALIASES = {"peers": ("bridge", "quix")}


@dataclass(frozen=True, slots=True)
class BenchConfig:
    mode: str
    reps: int
    # intake
    single_concurrency: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    batch_concurrency: int
    intake_seconds: float
    intake_warmup: float
    intake_banks: int
    producer_perf_records: int
    # aggregator
    aggregator_events: int
    aggregator_time_cap: float
    aggregator_scale_out: int  # also measured with this many processes (0: skip)
    # end to end
    e2e_rates: tuple[float, ...]
    e2e_fallback_rates: tuple[float, ...]
    e2e_seconds: float
    e2e_batch: int
    e2e_probe_rate: float
    e2e_drain_timeout: float
    # receipts (issue 29): stage 4's load at these offered rates, log off and on alternating
    receipts_rates: tuple[float, ...]
    # reads and growth
    history_levels: tuple[int, ...]
    rebuild_level: int
    rebuild_reps: int
    read_requests: int
    # profile
    profile_seconds: float

    def scaled(self, scale: float) -> BenchConfig:
        """Scale event counts (not durations). The smallest history level stays fixed: it is
        the baseline every read ratio divides by."""
        if scale == 1.0:
            return self
        levels = (
            self.history_levels[0],
            *sorted({max(self.history_levels[0] + 1, int(n * scale)) for n in self.history_levels[1:]}),
        )
        rebuild = max(self.history_levels[0] + 1, int(self.rebuild_level * scale))
        if rebuild not in levels:
            rebuild = min(levels[1:], key=lambda n: abs(n - rebuild)) if len(levels) > 1 else levels[0]
        return replace(
            self,
            aggregator_events=max(1000, int(self.aggregator_events * scale)),
            producer_perf_records=max(1000, int(self.producer_perf_records * scale)),
            history_levels=levels,
            rebuild_level=rebuild,
            mode=f"{self.mode} (scale {scale:g})",
        )


FULL = BenchConfig(
    mode="full",
    reps=3,
    single_concurrency=(1, 8, 32, 64),
    batch_sizes=(100, 1000),
    batch_concurrency=4,
    intake_seconds=10.0,
    intake_warmup=2.0,
    intake_banks=24,
    producer_perf_records=500_000,
    aggregator_events=1_000_000,
    aggregator_time_cap=150.0,
    aggregator_scale_out=2,
    e2e_rates=(1000.0, 6000.0),
    e2e_fallback_rates=(4500.0, 3000.0, 2000.0),
    e2e_seconds=30.0,
    e2e_batch=50,
    e2e_probe_rate=10.0,
    e2e_drain_timeout=20.0,
    receipts_rates=(1000.0, 6000.0),
    history_levels=(10_000, 1_000_000, 10_000_000),
    rebuild_level=1_000_000,
    rebuild_reps=3,
    read_requests=300,
    profile_seconds=20.0,
)

QUICK = BenchConfig(
    mode="quick",
    reps=3,
    single_concurrency=(1, 16),
    batch_sizes=(100, 1000),
    batch_concurrency=2,
    intake_seconds=2.0,
    intake_warmup=0.5,
    intake_banks=6,
    producer_perf_records=20_000,
    aggregator_events=20_000,
    aggregator_time_cap=30.0,
    aggregator_scale_out=2,
    e2e_rates=(200.0, 1000.0),
    e2e_fallback_rates=(500.0,),
    e2e_seconds=5.0,
    e2e_batch=50,
    e2e_probe_rate=10.0,
    e2e_drain_timeout=10.0,
    receipts_rates=(1000.0, 4000.0),
    history_levels=(1_000, 10_000, 30_000),
    rebuild_level=10_000,
    rebuild_reps=3,
    read_requests=20,
    profile_seconds=5.0,
)
