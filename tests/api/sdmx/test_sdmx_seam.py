"""The knowledge-time seam of the export (sdmx/service.py `export(..., figures_at)`), on
real Redis and PostgreSQL: `asOf` reads every figure from the `Figures` that `figures_at`
gives for the instant, `updatedAfter` keeps the observations that differ between those and
the present ones, and without a `figures_at` both are 501.

Here "as known then" is a second projection written as the aggregator writes it (a Redis
database holding only what was counted by then), standing in for the ledger snapshot that
the known_at reads produce: the seam takes any `Figures`."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from settlement_api.kit.bucket_store import BucketStore
from settlement_api.kit.disclosure import ContributorReader, Disclosure
from settlement_api.kit.fx_cache import FxCache
from settlement_api.resources import Figures
from settlement_api.sdmx.query import parse_data_query
from settlement_api.sdmx.service import export
from settlement_core.catalogue import load_catalogue
from settlement_core.problems import Problem
from settlement_core.redis_io import async_client
from tests.api.inprocess import api_settings
from tests.api.ledger_state import Event, LedgerState

pytestmark = pytest.mark.integration

THEN = datetime(2021, 1, 15, tzinfo=UTC)
JANUARY = (Event("ss-a", "S1", "cross_border_rmb", Decimal("1000.00"), "CNY", date(2020, 1, 15)),)
LATE = Event("ss-b", "S2", "cross_border_rmb", Decimal("2000.00"), "CNY", date(2020, 6, 15))
OPERATOR = Disclosure.unrestricted()


def other_redis(url: str) -> str:
    counter = redis.Redis.from_url(url)
    number = int(counter.incr("test:redis-db-counter")) % 255 + 1
    other = url.rsplit("/", 1)[0] + f"/{number}"
    redis.Redis.from_url(other).flushdb()
    return other


def figures_of(env: dict[str, str]) -> Figures:
    settings = api_settings(env)
    catalogue = load_catalogue(settings.targets_file)
    store = BucketStore(async_client(env["REDIS_URL"]))
    sessions = sessionmaker(create_engine(env["DATABASE_URL"]))
    return Figures(
        store,
        FxCache(sessions, 0),
        ContributorReader(store, 0),
        catalogue,
        catalogue.targets_for(catalogue.latest_period),
        settings,
        date(2026, 12, 7),
    )


@pytest.fixture(scope="module")
def envs(isolated_env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(now, then): now has the late June event, then does not."""
    then = {**isolated_env, "REDIS_URL": other_redis(isolated_env["REDIS_URL"])}
    for env, events in ((isolated_env, (*JANUARY, LATE)), (then, JANUARY)):
        state = LedgerState(env)
        if env is isolated_env:
            state.load_fx_seeds()
        for event in events:
            # Ledger rows need unique ids across both projections (one database).
            state.count(replace(event, event_id=f"{event.event_id}-{uuid.uuid4().hex[:6]}"))
        state.close()
    return isolated_env, then


def run(envs: tuple[dict[str, str], dict[str, str]], with_seam: bool, **params: str) -> dict[tuple[str, str], str]:
    now_env, then_env = envs

    async def go() -> dict[tuple[str, str], str]:
        figures = figures_of(now_env)

        async def figures_at(instant: datetime) -> Figures:
            assert instant == THEN
            return figures_of(then_env)

        query = parse_data_query(
            params.get("startPeriod"), params.get("endPeriod"), params.get("asOf"), params.get("updatedAfter"), None
        )
        rows = await export(figures, query, OPERATOR, figures_at=figures_at if with_seam else None)
        return {(o.unit.value, o.time_period): o.value for o in rows if o.target == "cross_border_rmb"}

    return asyncio.run(go())


def test_as_of_reads_the_figures_known_then(envs: tuple[dict[str, str], dict[str, str]]) -> None:
    now = run(envs, True, startPeriod="2020")
    then = run(envs, True, startPeriod="2020", asOf=THEN.isoformat())
    assert (now[("UNITS", "2020")], then[("UNITS", "2020")]) == ("3000.00", "1000.00")
    assert (now[("UNITS", "2020-06")], then[("UNITS", "2020-06")]) == ("2000.00", "0.00")


def test_updated_after_keeps_what_changed_since(envs: tuple[dict[str, str], dict[str, str]]) -> None:
    changed = run(envs, True, startPeriod="2020", updatedAfter=THEN.isoformat())
    # In 亿 (YI) both figures read 0.0000 then and now: those observations did not change.
    assert changed == {("UNITS", "2020"): "3000.00", ("UNITS", "2020-06"): "2000.00"}


@pytest.mark.parametrize("name", ["asOf", "updatedAfter"])
def test_without_the_seam_both_are_501(envs: tuple[dict[str, str], dict[str, str]], name: str) -> None:
    with pytest.raises(Problem) as exc:
        run(envs, False, **{name: THEN.isoformat()})
    assert exc.value.status == 501
    assert [e.pointer for e in exc.value.errors] == [f"#/query/{name}"]
