"""The campaign's history: one JSON line per client request (what was sent, what came back,
when), per fault (start and heal) and per metrics sample. Written by the clients, the
nemesis and the sampler while the campaign runs; read back by the checker and the report,
which know nothing else about the run."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

# What a client sent for one event; the oracle's input.
ACKNOWLEDGED = ("accepted", "duplicate")


@dataclass(frozen=True, slots=True)
class Sent:
    event_id: str
    category: str
    amount: Decimal  # CNY
    reverses: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": self.event_id, "category": self.category, "amount": str(self.amount)}
        if self.reverses is not None:
            out["reverses"] = self.reverses
        return out

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Sent:
        return cls(row["event_id"], row["category"], Decimal(row["amount"]), row.get("reverses"))


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request and its answer. `outcomes` has one entry per sent event: accepted,
    duplicate, rejected, unavailable (503 for the item or the request), or error (no answer:
    a reset, a timeout; the event may or may not have been taken), throttled (429),
    server_error (any other 5xx: a bug, a fault must answer 503)."""

    bank: str
    kind: str  # single, batch, iso
    started: float  # wall clock, seconds
    finished: float
    status: int  # HTTP status, 0 for no answer
    events: tuple[Sent, ...]
    outcomes: tuple[str, ...]
    attempt: int = 1  # 2+ for a retry of the same events

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "request",
            "bank": self.bank,
            "kind": self.kind,
            "started": round(self.started, 3),
            "finished": round(self.finished, 3),
            "status": self.status,
            "events": [e.as_json() for e in self.events],
            "outcomes": list(self.outcomes),
            "attempt": self.attempt,
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Request:
        return cls(
            row["bank"],
            row["kind"],
            float(row["started"]),
            float(row["finished"]),
            int(row["status"]),
            tuple(Sent.from_json(e) for e in row["events"]),
            tuple(row["outcomes"]),
            int(row.get("attempt", 1)),
        )

    @property
    def unavailable(self) -> bool:
        """Answered with a 5xx (whole request or an item) or not at all."""
        return self.status == 0 or self.status >= 500 or bool({"unavailable", "server_error"} & set(self.outcomes))


@dataclass(frozen=True, slots=True)
class FaultSpan:
    """A fault as it really ran: when it started and when it was healed (wall clock)."""

    fault_class: str
    role: str
    target: str  # the node or proxy it hit
    started: float
    healed: float

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> FaultSpan:
        return cls(row["class"], row["role"], row["target"], float(row["started"]), float(row["healed"]))


@dataclass(frozen=True, slots=True)
class History:
    requests: tuple[Request, ...]
    faults: tuple[FaultSpan, ...]
    samples: tuple[dict[str, Any], ...]
    meta: dict[str, Any]


class Recorder:
    """Appends JSON lines from several threads; each line is flushed at once, so a campaign
    that dies half way leaves a readable history."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._out: TextIO = path.open("w")
        self._lock = threading.Lock()

    def write(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        with self._lock:
            self._out.close()


def read(path: Path) -> History:
    requests: list[Request] = []
    faults: list[FaultSpan] = []
    samples: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        kind = row.get("type")
        if kind == "request":
            requests.append(Request.from_json(row))
        elif kind == "fault":
            faults.append(FaultSpan.from_json(row))
        elif kind == "sample":
            samples.append(row)
        elif kind == "meta":
            meta.update(row)
    return History(tuple(requests), tuple(faults), tuple(samples), meta)
