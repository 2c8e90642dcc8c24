"""PostgreSQL and Redis outages (cut through a TCP proxy in front of the real servers):
the aggregator reports not ready, retries with backoff, and once they are back the totals
are exact."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.aggregate.tcp_proxy import TcpProxy
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import Served, ServiceRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def proxies(isolated_env: dict[str, str]) -> Iterator[tuple[TcpProxy, TcpProxy]]:
    pg = make_url(isolated_env["DATABASE_URL"])
    rd = make_url(isolated_env["REDIS_URL"].replace("redis://", "postgresql://", 1))
    pg_proxy = TcpProxy(pg.host or "127.0.0.1", pg.port or 5432)
    redis_proxy = TcpProxy(rd.host or "127.0.0.1", rd.port or 6379)
    pg_proxy.start()
    redis_proxy.start()
    yield pg_proxy, redis_proxy
    pg_proxy.cut()
    redis_proxy.cut()


def readiness(aggregator: Served) -> int:
    return httpx.get(f"{aggregator.url}/readyz", timeout=5).status_code


def wait_status(aggregator: Served, status: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while readiness(aggregator) != status:
        assert time.monotonic() < deadline, f"/readyz never returned {status}"
        time.sleep(0.1)


def test_outages_pause_and_lose_nothing(
    isolated_env: dict[str, str], services: ServiceRunner, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    pg_proxy, redis_proxy = proxies
    pg_url = make_url(isolated_env["DATABASE_URL"]).set(host="127.0.0.1", port=pg_proxy.port)
    redis_url = isolated_env["REDIS_URL"].replace(
        str(make_url(isolated_env["REDIS_URL"].replace("redis://", "postgresql://", 1)).port), str(redis_proxy.port), 1
    )
    msgs = generate(31, originals=6000, tag="o")
    expected = oracle(msgs)
    third = len(msgs) // 3
    aggregator = services.serve(
        "aggregate",
        "settlement_aggregate",
        {
            "AGGREGATE_BATCH_SIZE": "300",
            "DATABASE_URL": pg_url.render_as_string(hide_password=False),
            "REDIS_URL": redis_url,
            "AGGREGATE_BACKOFF_MAX_S": "1",
        },
    )
    wait_status(aggregator, 200)
    prod = probe.producer(isolated_env)

    probe.produce(prod, isolated_env["EVENTS_TOPIC"], msgs[:third])
    pg_proxy.cut()
    wait_status(aggregator, 503)
    probe.produce(prod, isolated_env["EVENTS_TOPIC"], msgs[third : 2 * third])
    time.sleep(1.5)
    assert readiness(aggregator) == 503
    pg_proxy.start()
    wait_status(aggregator, 200)

    redis_proxy.cut()
    probe.produce(prod, isolated_env["EVENTS_TOPIC"], msgs[2 * third :])
    wait_status(aggregator, 503)
    time.sleep(1.5)
    redis_proxy.start()
    probe.wait_caught_up(isolated_env)
    assert readiness(aggregator) == 200

    actual = totals_from_fields(probe.summed_fields(isolated_env))
    assert actual.totals == expected.totals
    assert actual.counts == expected.counts
    assert_reconciled(isolated_env)
