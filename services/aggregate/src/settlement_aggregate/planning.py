"""Step 2 (pure): plan what one batch does to the ledger, the totals and the DLQ.

Input: the batch's valid and invalid messages in offset order, and the ledger rows they
refer to (their own keys, the originals they reverse, reversals waiting for them), read
under the partition lock. Output: new rows (with their final status), status changes of
existing rows, signed effects, DLQ entries and metric counts. The repository writes the
plan in one transaction; nothing here touches I/O, so every rule is unit-testable.

Rules (docs/aggregator.md):
Categories do not change these rules: a (bank_id, event_id) is one row and one effect
whatever the number of its categories; the projection fans the effect out to each target.

- the first copy of (bank_id, event_id) wins; a later copy with the same body_hash is a
  duplicate, with a different one a `conflicting_duplicate` for the DLQ;
- an original is counted: effect +amount at its offset;
- a reversal whose original is counted and matches (reversals.match) is applied: effect
  -amount with the original's attributes at the reversal's offset;
- a reversal whose original is unknown waits as `reversal_pending`; when the original
  arrives both effects are written at the original's offset (or the reversal is rejected
  and goes to the DLQ if it does not match);
- a correction (event.corrects) whose original is counted and not yet replaced
  (reversals.target_problem) is counted like an original (+its own amount with its own
  attributes) and subtracts the original like a reversal (-the original's amount with the
  original's attributes), both at the correction's offset; the original becomes
  `reversed`. A correction of an unknown original goes to the DLQ (`unknown_original`):
  it cannot wait like a reversal, since its own figure would count before the original
  it replaces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter

from settlement_aggregate.decode import InvalidRecord, Valid
from settlement_aggregate.reversals import ReversalClaim, Verdict, match, target_problem
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.buckets import Effect
from settlement_core.categories import DIRECTION_BY_VALUE
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.money import to_minor
from settlement_core.vocabulary import DlqReason, LedgerStatus


@dataclass(frozen=True, slots=True)
class DlqEntry:
    partition: int
    offset: int
    key: bytes | None
    raw: bytes | None
    reason: DlqReason
    detail: str
    bank_id: str | None = None
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class BatchPlan:
    inserts: tuple[LedgerRow, ...]
    status_updates: tuple[tuple[int, LedgerStatus], ...]
    effects: tuple[Effect, ...]
    dlq: tuple[DlqEntry, ...]
    duplicates: int = 0
    # declared category -> originals counted (an event with two categories counts in both)
    counted: Mapping[str, int] = field(default_factory=dict)
    reversals_applied: int = 0
    reversals_pending: int = 0
    corrections_applied: int = 0


# A record's place in the topic: (partition, offset).
Source = tuple[int, int]


def referenced_keys(valid: Sequence[Valid]) -> tuple[set[Key], set[Key]]:
    """Keys whose rows the planner needs: (own keys and reversal targets, originals that
    reversals may be waiting for or that may already be reversed)."""
    by_key: set[Key] = set()
    by_reverses: set[Key] = set()
    for item in valid:
        event = item.envelope.event
        by_key.add((event.bank_id, event.event_id))
        if event.corrects is not None:
            by_key.add((event.bank_id, event.corrects))
        if event.reverses is None:
            by_reverses.add((event.bank_id, event.event_id))
        else:
            by_key.add((event.bank_id, event.reverses))
            by_reverses.add((event.bank_id, event.reverses))
    return by_key, by_reverses


# The order of the items of a batch: per partition, by offset.
_SOURCE_ORDER = attrgetter("partition", "offset")


def _row(item: Valid, status: LedgerStatus) -> LedgerRow:
    event = item.envelope.event
    # str() of a StrEnum member is its value as a plain str; `.value` goes through enum's
    # Python-level descriptor, which is several times slower on this per-event path.
    return LedgerRow(
        row_id=None,
        bank_id=event.bank_id,
        event_id=event.event_id,
        body_hash=item.body_hash,
        categories=event.categories,
        amount=event.amount,
        currency=event.currency,
        value_date=event.value_date,
        direction=str(event.direction),
        country=event.counterparty_country,
        reverses=event.reverses,
        uetr=event.uetr,
        status=status,
        partition=item.partition,
        offset=item.offset,
        ingested_at=item.envelope.received_at,
        corrects=event.corrects,
        reason_code=event.reason_code,
        reason_text=event.reason_text,
    )


def _effect(
    original: LedgerRow, amount_minor: int, partition: int, offset: int, event_id: str, now: datetime
) -> Effect:
    """A signed change with the original's attributes. `amount_minor` is the caller's
    exact minor-unit amount of `original` (already known for a just-decoded event), signed."""
    return Effect(
        partition=partition,
        offset=offset,
        bank_id=original.bank_id,
        event_id=event_id,
        categories=original.categories,
        value_date=original.value_date,
        currency=original.currency,
        direction=original.direction,
        country=original.country,
        amount_minor=amount_minor,
        processed_at=now,
    )


def reencode(row: LedgerRow) -> bytes:
    """The canonical message of a stored event (for DLQ entries decided after the fact)."""
    event = SettlementEvent(
        bank_id=row.bank_id,
        event_id=row.event_id,
        categories=row.categories,
        amount=row.amount,
        currency=row.currency,
        value_date=row.value_date,
        direction=DIRECTION_BY_VALUE[row.direction],
        counterparty_country=row.country,
        reverses=row.reverses,
        uetr=row.uetr,
        corrects=row.corrects,
        reason_code=row.reason_code,
        reason_text=row.reason_text,
    )
    return encode(Envelope(event=event, received_at=row.ingested_at))


class _Planner:
    """Mutable working state of one plan_batch call (never escapes it)."""

    def __init__(self, known: Mapping[Key, LedgerRow], now: datetime, decided: AbstractSet[Source]) -> None:
        self.now = now
        self.decided = decided
        self.rows: dict[Key, LedgerRow] = dict(known)
        # original key -> event_id of its active (pending or applied) reversal
        self.active: dict[Key, str] = {
            (row.bank_id, row.reverses): row.event_id
            for row in known.values()
            if row.reverses is not None and row.status in (LedgerStatus.REVERSAL_PENDING, LedgerStatus.REVERSAL_APPLIED)
        }
        self.new_keys: list[Key] = []
        self.updates: dict[int, LedgerStatus] = {}
        self.effects: list[Effect] = []
        self.dlq: list[DlqEntry] = []
        self.duplicates = 0
        self.counted: Counter[str] = Counter()
        self.reversals_applied = 0
        self.reversals_pending = 0
        self.corrections_applied = 0

    def set_status(self, key: Key, status: LedgerStatus) -> None:
        row = replace(self.rows[key], status=status)
        self.rows[key] = row
        if row.row_id is not None:
            self.updates[row.row_id] = status

    def add(self, key: Key, row: LedgerRow) -> None:
        self.rows[key] = row
        self.new_keys.append(key)

    def reject(self, item: Valid, reason: DlqReason, detail: str) -> None:
        event = item.envelope.event
        self.dlq.append(
            DlqEntry(item.partition, item.offset, item.key, item.raw, reason, detail, event.bank_id, event.event_id)
        )

    def invalid(self, item: InvalidRecord) -> None:
        if (item.partition, item.offset) in self.decided:
            self.duplicates += 1  # dead-lettered when first delivered
            return
        self.dlq.append(
            DlqEntry(
                item.partition, item.offset, item.key, item.raw, item.reason, item.detail, item.bank_id, item.event_id
            )
        )

    def valid(self, item: Valid) -> None:
        event = item.envelope.event
        key = (event.bank_id, event.event_id)
        existing = self.rows.get(key)
        if existing is not None:
            if existing.body_hash == item.body_hash:
                self.duplicates += 1
            else:
                self.reject(
                    item,
                    DlqReason.CONFLICTING_DUPLICATE,
                    f"{event.event_id} already recorded at {existing.partition}/{existing.offset} with another body",
                )
            return
        if (item.partition, item.offset) in self.decided:
            # Dead-lettered when first delivered: that decision stands. Deciding again now
            # could differ (a reversal refused while another one was pending would apply).
            self.duplicates += 1
            return
        if event.corrects is not None:
            self.correction(item, key, event.corrects)
        elif event.reverses is None:
            self.original(item, key)
        else:
            self.reversal(item, key, event.reverses)

    def original(self, item: Valid, key: Key) -> None:
        row = _row(item, LedgerStatus.COUNTED)
        self.add(key, row)
        self.effects.append(_effect(row, item.amount_minor, item.partition, item.offset, row.event_id, self.now))
        for category in row.categories:
            self.counted[category] += 1
        waiting = self.active.get(key)
        if waiting is None:
            return
        reversal = self.rows[(row.bank_id, waiting)]
        if reversal.status is not LedgerStatus.REVERSAL_PENDING:
            return
        assert reversal.reverses is not None
        decision = match(
            row,
            ReversalClaim(reversal.bank_id, reversal.event_id, reversal.reverses, reversal.amount, reversal.currency),
            already_reversed_by=None,
        )
        if decision.verdict is Verdict.APPLY:
            self.set_status(reversal.key, LedgerStatus.REVERSAL_APPLIED)
            self.set_status(key, LedgerStatus.REVERSED)
            # Caused by the original's arrival, so journalled at the original's offset.
            self.effects.append(
                _effect(row, -item.amount_minor, item.partition, item.offset, reversal.event_id, self.now)
            )
            self.reversals_applied += 1
            return
        self.set_status(reversal.key, LedgerStatus.REVERSAL_REJECTED)
        del self.active[key]
        self.dlq.append(
            DlqEntry(
                reversal.partition,
                reversal.offset,
                None,
                reencode(reversal),
                decision.verdict.reason,
                decision.detail,
                reversal.bank_id,
                reversal.event_id,
            )
        )

    def correction(self, item: Valid, key: Key, corrects: str) -> None:
        event = item.envelope.event
        if corrects == event.event_id:
            self.reject(item, DlqReason.REVERSAL_MISMATCH, "an event cannot correct itself")
            return
        target_key = (event.bank_id, corrects)
        target = self.rows.get(target_key)
        if target is None:
            self.reject(item, DlqReason.UNKNOWN_ORIGINAL, f"{corrects} is not in the ledger: send the original first")
            return
        problem = target_problem(target, event.event_id, already_reversed_by=self.active.get(target_key))
        if problem is not None:
            self.reject(item, problem.verdict.reason, problem.detail)
            return
        # Its own figure first (and any reversal of it that was waiting), as an original.
        self.original(item, key)
        self.set_status(target_key, LedgerStatus.REVERSED)
        self.active[target_key] = event.event_id
        self.effects.append(
            _effect(
                target, -to_minor(target.amount, target.currency), item.partition, item.offset, event.event_id, self.now
            )
        )
        self.corrections_applied += 1

    def reversal(self, item: Valid, key: Key, reverses: str) -> None:
        event = item.envelope.event
        if reverses == event.event_id:
            self.reject(item, DlqReason.REVERSAL_MISMATCH, "an event cannot reverse itself")
            return
        target_key = (event.bank_id, reverses)
        target = self.rows.get(target_key)
        if target is None:
            if target_key in self.active:
                self.reject(
                    item,
                    DlqReason.ALREADY_REVERSED,
                    f"{reverses} already has pending reversal {self.active[target_key]}",
                )
                return
            self.add(key, _row(item, LedgerStatus.REVERSAL_PENDING))
            self.active[target_key] = event.event_id
            self.reversals_pending += 1
            return
        decision = match(
            target,
            ReversalClaim(event.bank_id, event.event_id, reverses, event.amount, event.currency),
            already_reversed_by=self.active.get(target_key),
        )
        if decision.verdict is not Verdict.APPLY:
            self.reject(item, decision.verdict.reason, decision.detail)
            return
        self.add(key, _row(item, LedgerStatus.REVERSAL_APPLIED))
        self.set_status(target_key, LedgerStatus.REVERSED)
        self.active[target_key] = event.event_id
        # The target may come from the ledger (no decoded amount at hand): convert its own.
        self.effects.append(
            _effect(
                target, -to_minor(target.amount, target.currency), item.partition, item.offset, event.event_id, self.now
            )
        )
        self.reversals_applied += 1


def plan_batch(
    valid: Sequence[Valid],
    invalid: Sequence[InvalidRecord],
    known: Mapping[Key, LedgerRow],
    now: datetime,
    decided: AbstractSet[Source] = frozenset(),
) -> BatchPlan:
    """Plan one batch. `valid`/`invalid` may span partitions; each is handled in offset
    order (a bank's events share one partition, so order across partitions is irrelevant).
    `decided`: (partition, offset) of the batch's records already in the DLQ (re-delivered)."""
    planner = _Planner(known, now, decided)
    items: list[Valid | InvalidRecord] = [*valid, *invalid]
    items.sort(key=_SOURCE_ORDER)
    for item in items:
        if isinstance(item, Valid):
            planner.valid(item)
        else:
            planner.invalid(item)
    rows = planner.rows
    return BatchPlan(
        inserts=tuple([rows[k] for k in planner.new_keys]),
        status_updates=tuple(planner.updates.items()),
        effects=tuple(planner.effects),
        dlq=tuple(planner.dlq),
        duplicates=planner.duplicates,
        counted=dict(planner.counted),
        reversals_applied=planner.reversals_applied,
        reversals_pending=planner.reversals_pending,
        corrections_applied=planner.corrections_applied,
    )
