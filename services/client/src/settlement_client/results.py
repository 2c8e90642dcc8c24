"""What the services answered, as value objects."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from settlement_client.errors import Problem
from settlement_client.tlog.promise import PromiseError, Receipt

logger = logging.getLogger(__name__)

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class Submitted:
    """One event acknowledged by Kafka: `duplicate` when it had been accepted before."""

    event_id: str
    status: Literal["accepted", "duplicate"]
    # The log's signed promise (accepted events, when the service runs a log): keep it.
    receipt: Receipt | None = None

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one item of `submit_batch` or `submit_iso20022`.

    `index` is the item's position in what the caller passed (not in a chunk); `problem` is
    set when rejected; `source` is the ISO 20022 element path of the item.
    """

    index: int
    event_id: str | None
    status: Status
    problem: Problem | None = None
    source: str | None = None
    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    results: tuple[ItemResult, ...]
    message_type: str | None = None
    skipped: tuple[SkippedEntry, ...] = ()

    def _count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def accepted(self) -> int:
        return self._count("accepted")

    @property
    def duplicates(self) -> int:
        return self._count("duplicate")

    @property
    def rejected(self) -> int:
        return self._count("rejected")

    @property
    def rejections(self) -> tuple[ItemResult, ...]:
        return tuple(r for r in self.results if r.status == "rejected")


@dataclass(frozen=True, slots=True)
class EventStatus:
    """`GET /v1/events/{event_id}` of the API: counted | duplicate | reversed | corrected |
    dlq | unknown."""

    bank_id: str
    event_id: str
    status: str
    document: Mapping[str, Any]

    @property
    def corrected_by(self) -> str | None:
        """The event_id of the correction that replaced this event (a chain: follow it)."""
        link = self.document.get("corrected_by")
        return None if not isinstance(link, Mapping) else str(link["event_id"])

    @property
    def corrects(self) -> str | None:
        """For a correction, the event_id it replaced."""
        ledger = self.document.get("ledger")
        value = ledger.get("corrects") if isinstance(ledger, Mapping) else None
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class ControlTotals:
    """A month's control totals as the API holds them (`POST /v1/control-totals`, `GET
    /v1/control-totals/{period}`): the current version, whether this call stored it (False:
    the same lines had been declared before, nothing changed), and the comparison with the
    bank's counted events. `document` is the whole answer (lines, versions, breaks, trails)."""

    bank_id: str
    period: str
    version: int
    stored: bool
    # Lines whose declared figures differ from the counted events now.
    unbalanced: tuple[Mapping[str, Any], ...]
    # Breaks still open (a break closes when late events make the line balance, or when an
    # operator acknowledges it).
    open_breaks: tuple[Mapping[str, Any], ...]
    document: Mapping[str, Any]

    @property
    def balanced(self) -> bool:
        return not self.unbalanced


def control_totals_from_wire(data: Mapping[str, Any], stored: bool) -> ControlTotals:
    return ControlTotals(
        bank_id=str(data["bank_id"]),
        period=str(data["period"]),
        version=int(data["declaration"]["version"]),
        stored=stored,
        unbalanced=tuple(c for c in data.get("comparison") or [] if not c.get("balanced")),
        open_breaks=tuple(b for b in data.get("breaks") or [] if b.get("status") == "open"),
        document=data,
    )


def _reindexed(document: Mapping[str, Any], position: int, index: int) -> dict[str, Any]:
    """The problem with pointers into the chunk (`#/events/<position>`) made pointers into
    the caller's list (`#/events/<index>`)."""
    prefix, replacement = f"#/events/{position}", f"#/events/{index}"
    out = dict(document)
    errors = document.get("errors")
    if isinstance(errors, list):
        out["errors"] = [
            {**e, "pointer": replacement + e["pointer"][len(prefix) :]}
            if isinstance(e, Mapping)
            and isinstance(e.get("pointer"), str)
            and (e["pointer"] == prefix or e["pointer"].startswith(prefix + "/"))
            else e
            for e in errors
        ]
    return out


def item_from_wire(raw: Mapping[str, Any], index: int, position: int | None = None) -> ItemResult:
    """One entry of a batch answer's `results`: `position` in the request, `index` in the
    caller's list (pointers are rewritten from one to the other)."""
    problem = raw.get("problem")
    status = raw.get("status")
    if isinstance(problem, Mapping) and position is not None and position != index:
        problem = _reindexed(problem, position, index)
    return ItemResult(
        index=index,
        event_id=raw.get("event_id") if isinstance(raw.get("event_id"), str) else None,
        status=status if status in ("accepted", "duplicate") else "rejected",
        problem=Problem.from_document(problem) if isinstance(problem, Mapping) else None,
        source=raw.get("source") if isinstance(raw.get("source"), str) else None,
        receipt=receipt_from_wire(raw.get("receipt")),
    )


def receipt_from_wire(raw: Any) -> Receipt | None:
    """The `receipt` member of an answer, or None when absent. A malformed one is logged and
    dropped: the event was accepted all the same, and settlement-verify checks what is kept."""
    if raw is None:
        return None
    try:
        return Receipt.from_json(json.dumps(raw))
    except (PromiseError, TypeError) as exc:
        logger.warning("the answer's receipt is malformed and was not kept: %s", exc)
        return None
