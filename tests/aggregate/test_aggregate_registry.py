"""registry: events of a bank that was never registered are dead-lettered, from a cache
that asks PostgreSQL only about ids it has not seen (pure: the lookup is a function)."""

from __future__ import annotations

from collections.abc import Iterable

from settlement_aggregate.registry import BankRegistry, split_registered
from settlement_core.vocabulary import DlqReason
from tests.aggregate.test_aggregate_planning import raw, valid


class Table:
    """The banks table as the lookup sees it, with a record of every question asked."""

    def __init__(self, *ids: str) -> None:
        self.ids = set(ids)
        self.asked: list[set[str] | None] = []

    def __call__(self, ids: Iterable[str] | None) -> set[str]:
        wanted = None if ids is None else set(ids)
        self.asked.append(wanted)
        return set(self.ids) if wanted is None else wanted & self.ids


def test_unknown_bank_goes_to_the_dlq_with_its_bytes_and_the_others_are_kept() -> None:
    known, stranger = valid(1, raw("e1", bank="b1")), valid(2, raw("e2", bank="ghost"))
    kept, unknown = split_registered([known, stranger], {"b1"})
    assert kept == [known]
    assert len(unknown) == 1
    entry = unknown[0]
    assert (entry.partition, entry.offset, entry.raw, entry.reason) == (0, 2, stranger.raw, DlqReason.UNKNOWN_BANK)
    assert "ghost" in entry.detail
    assert (entry.bank_id, entry.event_id) == ("ghost", "e2")


def test_cache_loads_once_and_asks_only_about_misses() -> None:
    table = Table("b1", "b2")
    registry = BankRegistry(table)
    assert registry.registered({"b1"}) == {"b1"}
    assert registry.registered({"b1", "b2"}) == {"b1", "b2"}
    assert table.asked == [None]  # one full load, then hits only


def test_a_bank_registered_after_the_load_is_found_on_its_first_event() -> None:
    table = Table("b1")
    registry = BankRegistry(table)
    registry.registered({"b1"})
    table.ids.add("new")
    kept, unknown = registry.split([valid(5, raw("e5", bank="new"))])
    assert [k.offset for k in kept] == [5]
    assert unknown == []
    assert table.asked == [None, {"new"}]


def test_unknown_ids_are_asked_about_again_but_only_themselves() -> None:
    table = Table("b1")
    registry = BankRegistry(table)
    for _ in range(2):
        kept, unknown = registry.split([valid(1, raw("e1", bank="b1")), valid(2, raw("e2", bank="ghost"))])
        assert [k.offset for k in kept] == [1]
        assert [u.offset for u in unknown] == [2]
    assert table.asked == [None, {"ghost"}, {"ghost"}]
