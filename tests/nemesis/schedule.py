"""The nemesis's fault schedule: a pure function of (seed, minutes, menu) to a list of timed
faults. Same seed, same schedule (the seed is printed, so a failing campaign replays).

Faults of different lanes overlap freely (a broker dies while the Redis master fails over
and the network to PostgreSQL is slow); faults of one lane never do, because a lane is one
thing that can be broken once at a time: one Kafka node fault at a time keeps 2 of 3 brokers
(min ISR 2) and the KRaft quorum, one Redis node fault at a time keeps every shard with a
master or a replica to promote, one PostgreSQL fault at a time, one network fault per proxied
engine. Everything heals by `minutes * 60 - HEAL_MARGIN_S`, and the executor heals whatever
is still broken at the end anyway.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

WARMUP_S = 10.0
# The last faults end this long before the clients stop: time for a killed broker to
# restart (20-60 s measured on the loaded 2-core CI machine) before the checker judges.
HEAL_MARGIN_S = 20.0


class Action(StrEnum):
    SIGKILL = "sigkill"  # then restart after the fault's duration
    SIGTERM = "sigterm"  # then restart after the fault's duration
    PAUSE = "pause"  # SIGSTOP, SIGCONT after the duration
    PROMOTE = "promote"  # PostgreSQL: immediate stop of the primary, promote the standby
    LATENCY = "latency"  # toxiproxy latency + jitter
    BANDWIDTH = "bandwidth"  # toxiproxy bandwidth (KB/s)
    TIMEOUT = "timeout"  # toxiproxy timeout: data stops, connections close after `timeout`
    RESET_PEER = "reset_peer"  # toxiproxy reset_peer: connections reset (TCP RST)
    PARTITION = "partition"  # toxiproxy proxy disabled: connections refused and cut


SIGNALS = (Action.SIGKILL, Action.SIGTERM, Action.PAUSE)
NETWORK = (Action.LATENCY, Action.BANDWIDTH, Action.TIMEOUT, Action.RESET_PEER, Action.PARTITION)


@dataclass(frozen=True, slots=True)
class Target:
    """Something a fault hits. `role` is resolved when the fault starts (which broker is the
    active controller, which Redis node is a master then), so the schedule stays pure."""

    lane: str  # faults of one lane never overlap
    role: str  # e.g. "ingest", "kafka:controller", "redis:master", "pg:primary", "net:postgres"
    actions: tuple[Action, ...]


SERVICES = ("ingest", "aggregate-0", "aggregate-1", "api")
MENU: tuple[Target, ...] = (
    *(Target(f"service:{s}", s, SIGNALS) for s in SERVICES),
    Target("kafka", "kafka:any", SIGNALS),
    Target("kafka", "kafka:controller", SIGNALS),
    Target("redis", "redis:master", SIGNALS),
    Target("redis", "redis:replica", SIGNALS),
    Target("postgres", "pg:primary", (Action.SIGKILL, Action.PAUSE, Action.PROMOTE)),
    Target("net:postgres", "net:postgres", NETWORK),
    Target("net:redis", "net:redis", NETWORK),
)


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float  # seconds after the campaign's start
    duration_s: float
    lane: str
    role: str
    action: Action
    # Toxic attributes (latency/jitter ms, rate KB/s, timeout ms), as toxiproxy names them.
    params: tuple[tuple[str, int], ...] = ()

    @property
    def until_s(self) -> float:
        return self.at_s + self.duration_s

    @property
    def fault_class(self) -> str:
        """What the report groups by: the engine or service kind and the action."""
        kind = self.role.split(":", 1)[0] if ":" in self.role else self.role.rstrip("-0123456789")
        if self.lane.startswith("net:"):
            kind = self.lane
        return f"{kind}/{self.action.value}"

    def as_json(self) -> dict[str, object]:
        return {
            "at_s": self.at_s,
            "duration_s": self.duration_s,
            "lane": self.lane,
            "role": self.role,
            "action": self.action.value,
            "params": dict(self.params),
            "class": self.fault_class,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    seed: int
    minutes: float
    faults: tuple[Fault, ...]

    @property
    def end_s(self) -> float:
        return self.minutes * 60


def _params(action: Action, rng: random.Random) -> tuple[tuple[str, int], ...]:
    if action is Action.LATENCY:
        return (("latency", rng.choice((50, 200, 800, 2000))), ("jitter", rng.choice((0, 50, 300))))
    if action is Action.BANDWIDTH:
        return (("rate", rng.choice((1, 8, 64))),)
    if action is Action.TIMEOUT:
        return (("timeout", rng.choice((0, 500, 3000))),)
    if action is Action.RESET_PEER:
        return (("timeout", rng.choice((0, 100))),)
    return ()


def _duration(action: Action, rng: random.Random) -> float:
    if action is Action.PROMOTE:
        return 2.0  # the gap between the primary's stop and the standby's promotion
    if action in (Action.SIGKILL, Action.SIGTERM):
        return round(rng.uniform(1.0, 8.0), 1)  # downtime before the restart
    return round(rng.uniform(2.0, 15.0), 1)


def generate(
    seed: int,
    minutes: float,
    *,
    mean_gap_s: float = 6.0,
    menu: tuple[Target, ...] = MENU,
    promote: bool = True,
    restart_s: float = 25.0,
) -> Plan:
    """A campaign of `minutes` from `seed`. Arrivals are exponential with mean `mean_gap_s`;
    each picks a target and action uniformly among those whose lane is free at that time.
    A kill's lane stays busy `restart_s` after its restart (a SIGKILLed broker recovers its
    logs first). At most one PROMOTE (without a rebuilt standby a second one has nothing to
    promote), in the last third so the PostgreSQL kills and pauses come first, and no
    PostgreSQL node fault after it."""
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    rng = random.Random(seed)
    end = minutes * 60 - HEAL_MARGIN_S
    free_at: dict[str, float] = {}
    promoted = not promote
    faults: list[Fault] = []
    t = WARMUP_S
    while True:
        t += rng.expovariate(1.0 / mean_gap_s)
        if t >= end:
            break
        choices = [
            (target, action)
            for target in menu
            if free_at.get(target.lane, 0.0) <= t and not (target.lane == "postgres" and promoted)
            for action in target.actions
            if not (action is Action.PROMOTE and (promoted or t < end * 2 / 3))
        ]
        if not choices:
            continue
        target, action = rng.choice(choices)
        duration = min(_duration(action, rng), max(0.5, end - t))
        fault = Fault(round(t, 1), duration, target.lane, target.role, action, _params(action, rng))
        faults.append(fault)
        busy = restart_s if action in (Action.SIGKILL, Action.SIGTERM, Action.PROMOTE) else 1.0
        free_at[target.lane] = fault.until_s + busy
        if action is Action.PROMOTE:
            promoted = True
    return Plan(seed, minutes, tuple(faults))


def overlapping(plan: Plan) -> int:
    """How many faults start while another is still active (for the report)."""
    count = 0
    for i, fault in enumerate(plan.faults):
        if any(other.at_s <= fault.at_s < other.until_s for other in plan.faults[:i]):
            count += 1
    return count
