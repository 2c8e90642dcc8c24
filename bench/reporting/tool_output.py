"""Pure parsers for what the external tools print: Kafka's ProducerPerformance and
ConsumerPerformance, py-spy's collapsed stacks and /proc CPU counters. Kept apart from the
code that runs the tools so the parsing can be tested without a broker or a kernel.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

_PRODUCER_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th"
)


@dataclass(frozen=True, slots=True)
class ProducerPerfSummary:
    records: int
    records_per_s: float
    mb_per_s: float
    avg_ms: float
    max_ms: float
    p50_ms: float
    p99_ms: float


def parse_producer_performance(output: str) -> ProducerPerfSummary:
    """The final summary line (the interim lines lack the percentiles)."""
    matches = list(_PRODUCER_SUMMARY.finditer(output))
    if not matches:
        raise ValueError(f"no ProducerPerformance summary in output: {output[-500:]!r}")
    m = matches[-1]
    return ProducerPerfSummary(
        records=int(m["records"]),
        records_per_s=float(m["rate"]),
        mb_per_s=float(m["mb"]),
        avg_ms=float(m["avg"]),
        max_ms=float(m["max"]),
        p50_ms=float(m["p50"]),
        p99_ms=float(m["p99"]),
    )


@dataclass(frozen=True, slots=True)
class ConsumerPerfSummary:
    records: int
    records_per_s: float
    fetch_records_per_s: float
    mb_per_s: float
    rebalance_ms: float


def parse_consumer_performance(output: str) -> ConsumerPerfSummary:
    """The CSV-like header + data line. `fetch.nMsg.sec` excludes the group join, which is
    the figure comparable with our aggregator's steady-state rate."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    header_index = next((i for i, line in enumerate(lines) if line.startswith("start.time")), None)
    if header_index is None or header_index + 1 >= len(lines):
        raise ValueError(f"no ConsumerPerformance table in output: {output[-500:]!r}")
    names = [n.strip() for n in lines[header_index].split(",")]
    values = [v.strip() for v in lines[header_index + 1].split(",")]
    row = dict(zip(names, values, strict=False))
    return ConsumerPerfSummary(
        records=int(float(row["data.consumed.in.nMsg"])),
        records_per_s=float(row["nMsg.sec"]),
        fetch_records_per_s=float(row["fetch.nMsg.sec"]),
        mb_per_s=float(row["MB.sec"]),
        rebalance_ms=float(row["rebalance.time.ms"]),
    )


@dataclass(frozen=True, slots=True)
class HotFunction:
    function: str
    self_pct: float
    total_pct: float


_FRAME_LINE = re.compile(r":\d+\)$")


def _frame_name(frame: str) -> str:
    # "apply (settlement_aggregate/apply.py:42)" -> "apply (settlement_aggregate/apply.py)":
    # samples on different lines of one function belong to the same function.
    return _FRAME_LINE.sub(")", frame.strip())


@dataclass(frozen=True, slots=True)
class StackProfile:
    samples: int  # on-CPU samples analysed
    idle_samples: int  # samples parked in a wait (left out of the shares)
    by_self: tuple[HotFunction, ...]
    by_total: tuple[HotFunction, ...]


# Leaf frames that mean "waiting", not "working": py-spy counts a thread blocked in epoll
# or on a condition as active, which would hide the real hot spots behind idle time.
IDLE_LEAVES = (
    "select (selectors.py)",
    "EpollSelector.select",
    "Condition.wait",
    "Event.wait",
    "Queue.get",
    "_worker (concurrent/futures/thread.py)",
)


ENTRY_POINTS = ("<module> (", "main (")


def hot_functions(collapsed: str, top: int = 15, focus: tuple[str, ...] = ()) -> StackProfile:
    """Top functions from py-spy's `--format raw` (collapsed stacks).

    `by_self` ranks where the CPU is burnt. `by_total` ranks which calls, with everything
    under them, cost the most (counted once per stack, so recursion stays under 100 %);
    restricted to frames whose name contains one of `focus` (e.g. our own packages) when
    given, because otherwise the framework's entry points fill the list. Frames on 90 % or
    more of the stacks (main, the event loop) are left out of `by_total`: true and useless.
    """
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = idle = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # The first element(s) name the process and thread, not Python frames.
        frames = [_frame_name(f) for f in stack.split(";") if "(" in f and ".py" in f]
        if not frames:
            continue
        if any(leaf in frames[-1] for leaf in IDLE_LEAVES):
            idle += count
            continue
        samples += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            total_counts[name] += count
    if samples == 0:
        return StackProfile(0, idle, (), ())

    def row(name: str) -> HotFunction:
        return HotFunction(name, 100.0 * self_counts[name] / samples, 100.0 * total_counts[name] / samples)

    by_self = tuple(row(name) for name, _ in self_counts.most_common(top))
    by_total = tuple(
        row(name)
        for name, n in total_counts.most_common()
        if n < 0.9 * samples and not name.startswith(ENTRY_POINTS) and (not focus or any(f in name for f in focus))
    )[:top]
    return StackProfile(samples, idle, by_self, by_total)


def proc_cpu_ticks(stat_line: str) -> int:
    """utime + stime (+ children's) from /proc/<pid>/stat, in clock ticks.

    The command name may contain spaces and parentheses, so fields are counted after the
    last ')'.
    """
    fields = stat_line.rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime, stime, cutime, cstime are fields 14..17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def machine_cpu_ticks(proc_stat: str) -> tuple[int, int]:
    """(busy, total) ticks from the aggregate `cpu` line of /proc/stat."""
    for line in proc_stat.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            total = sum(values[:8])
            return total - idle, total
    raise ValueError("no aggregate cpu line in /proc/stat")


@dataclass(frozen=True, slots=True)
class WrkSummary:
    requests: int
    seconds: float
    accepted: int  # events acknowledged (202, or per-batch "accepted")
    ok: int  # 200/202 answers
    bad: int  # other HTTP statuses
    socket_errors: int  # connect/read/write errors and timeouts
    p50_ms: float
    p99_ms: float
    max_ms: float


def parse_wrk(output: str) -> WrkSummary:
    """The `BENCH {...}` line that bench/load/wrk_intake.lua's done() prints."""
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise ValueError(f"no BENCH line in wrk output: {output[-500:]!r}")
    data = json.loads(line[len("BENCH ") :])
    return WrkSummary(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        accepted=int(data["accepted"]),
        ok=int(data["ok"]),
        bad=int(data["bad"]),
        socket_errors=sum(int(data[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )
