"""Step 1b: dead-letter events of a bank that was never registered (defence in depth).

Ingest writes only events of the bank it authenticated, but the events topic is a second
way in: anything that can write to it (a misconfigured ACL, a leaked `ingest` password)
could otherwise book volume for any bank id. An event whose bank_id is not a row of `banks`
goes to the DLQ with reason `unknown_bank` and is not counted. A bank whose key was revoked
keeps its row (settlementctl never deletes banks), so its events still count.

`split_registered` is pure. `BankRegistry` caches the registered ids: a hit costs a set
lookup; a miss asks PostgreSQL about the missing ids only (one indexed query per batch that
has any), so a bank registered a moment ago is found at once, and a stream of unknown ids
costs one small query per batch, never a reload of the whole table. Known ids are never
dropped (registration is permanent); the cache is bounded by the banks table itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet

from sqlalchemy import Engine, select

from settlement_aggregate.decode import InvalidRecord, Valid
from settlement_core.db.models import Bank
from settlement_core.vocabulary import DlqReason

# Ids asked about per query: one batch (10,000 events) names a few hundred banks at most.
_LOOKUP_CHUNK = 1000


def split_registered(valid: Sequence[Valid], registered: AbstractSet[str]) -> tuple[list[Valid], list[InvalidRecord]]:
    """Valid events of registered banks, and the others as `unknown_bank` DLQ entries."""
    kept: list[Valid] = []
    unknown: list[InvalidRecord] = []
    for item in valid:
        bank_id = item.envelope.event.bank_id
        if bank_id in registered:
            kept.append(item)
        else:
            unknown.append(
                InvalidRecord(
                    item.partition,
                    item.offset,
                    item.key,
                    item.raw,
                    DlqReason.UNKNOWN_BANK,
                    f"bank {bank_id!r} is not registered",
                    bank_id,
                    item.envelope.event.event_id,
                )
            )
    return kept, unknown


class BankRegistry:
    """Registered bank ids, loaded on first use and completed on a miss."""

    def __init__(self, lookup: Callable[[Iterable[str] | None], set[str]]) -> None:
        # lookup(None): every registered id; lookup(ids): those of `ids` that are registered.
        self._lookup = lookup
        self._known: set[str] | None = None

    @classmethod
    def from_engine(cls, engine: Engine) -> BankRegistry:
        def lookup(ids: Iterable[str] | None) -> set[str]:
            with engine.connect() as conn:
                if ids is None:
                    return set(conn.scalars(select(Bank.bank_id)))
                wanted = sorted(set(ids))
                found: set[str] = set()
                for start in range(0, len(wanted), _LOOKUP_CHUNK):
                    chunk = wanted[start : start + _LOOKUP_CHUNK]
                    found |= set(conn.scalars(select(Bank.bank_id).where(Bank.bank_id.in_(chunk))))
                return found

        return cls(lookup)

    def registered(self, bank_ids: AbstractSet[str]) -> AbstractSet[str]:
        """The ids of `bank_ids` that are registered (PostgreSQL asked only about misses)."""
        if self._known is None:
            self._known = self._lookup(None)
        missing = bank_ids - self._known
        if missing:
            self._known |= self._lookup(missing)
        return bank_ids & self._known

    def split(self, valid: Sequence[Valid]) -> tuple[list[Valid], list[InvalidRecord]]:
        return split_registered(valid, self.registered({v.envelope.event.bank_id for v in valid}))
