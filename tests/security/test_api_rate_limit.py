"""M4: the API had no rate limit, and its heaviest pages were anonymous and uncached.

Attacks: (1) one anonymous client loops on /status/series.json; (2) one bank key loops on
/v1/progress; (3) many anonymous clients at once ask for the same page. On the starting
main (1) and (2) were never refused (no 429: both tests fail on their first check), and
(3) cost one full computation per client (api_http_requests_total counted 12 for 12
requests, so test_anonymous_pages_are_computed_once_per_ttl fails).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ServiceRunner
from tests.security.api_stack import Apis, get, start_apis

pytestmark = pytest.mark.integration

BURST = 5


def from_address(address: str) -> httpx.Client:
    """A client on its own loopback address (all of 127/8 is loopback on Linux): each test
    gets fresh per-address buckets although all run on one machine."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    return start_apis(
        isolated_env,
        services,
        RATE_PER_KEY="0.5",
        BURST_PER_KEY=str(BURST),
        RATE_PER_ADDRESS="0.5",
        BURST_PER_ADDRESS=str(BURST),
        ANONYMOUS_CACHE_SECONDS="30",
    )


def assert_limited(responses: list[httpx.Response]) -> httpx.Response:
    statuses = [r.status_code for r in responses]
    assert statuses[:BURST] == [200] * BURST, statuses
    refused = responses[-1]
    assert refused.status_code == 429, statuses
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["status"] == 429
    return refused


def test_anonymous_reads_are_limited_per_address(apis: Apis) -> None:
    with from_address("127.0.0.2") as client:
        url = apis.public + "/status/series.json"
        responses = [client.get(url, params={"as_of": f"2020-01-{day:02d}"}) for day in range(1, 10)]
        assert_limited(responses)
        # A made-up Authorization header buys nothing on routes that check no API key.
        assert client.get(apis.public + "/metrics", headers={"Authorization": "Bearer x"}).status_code == 429
    with from_address("127.0.0.3") as other:
        assert other.get(apis.public + "/status/series.json").status_code == 200  # another address
    # Another client's key is its own bucket: an operator is not starved by the flood.
    assert get(apis.public + "/v1/progress", apis.operator).status_code == 200


def test_keyed_reads_are_limited_per_key(apis: Apis) -> None:
    key = apis.banks["sec-d"]
    responses = [get(apis.private + "/v1/progress", key) for _ in range(BURST + 3)]
    assert_limited(responses)
    assert get(apis.private + "/v1/progress", apis.banks["sec-c"]).status_code == 200


def test_unknown_keys_are_charged_to_the_address(apis: Apis) -> None:
    # Guessing keys: each wrong key is a 401 until the address's bucket is empty.
    with from_address("127.0.0.4") as client:
        url = apis.private + "/v1/progress"
        statuses = [client.get(url, headers={"Authorization": f"Bearer stl_guess{i}"}).status_code for i in range(9)]
    assert 401 in statuses
    assert statuses[-1] == 429, statuses


def route_count(url: str, route: str) -> float:
    with from_address("127.0.0.5") as client:
        text = client.get(url + "/metrics").text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "api_http_requests_total" and s.labels.get("route") == route
    )


CLIENTS = 12


@pytest.mark.parametrize(
    ("path", "route", "first"),
    [
        ("/status/series.json?as_of=2020-07-07", "/status/series.json", "127.0.1"),  # asked for by no other test
        ("/v1/sdmx/data/SETTLEMENT_PROGRESS?startPeriod=2020-07", "/v1/sdmx/data/{flow}", "127.0.2"),
    ],
)
def test_anonymous_pages_are_computed_once_per_ttl(apis: Apis, path: str, route: str, first: str) -> None:
    """12 clients, each on its own address, ask for a heavy anonymous page at once: one
    computation serves them all (api_http_requests_total counts requests that reach a route).
    The SDMX data message was computed per request until it joined the cache."""
    url = apis.public + path

    async def one(address: str) -> httpx.Response:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            return await client.get(url)

    async def crowd() -> list[httpx.Response]:
        return list(await asyncio.gather(*(one(f"{first}.{i}") for i in range(1, CLIENTS + 1))))

    before = route_count(apis.public, route)
    responses = asyncio.run(crowd())
    assert [r.status_code for r in responses] == [200] * CLIENTS
    assert len({r.text for r in responses}) == 1
    assert route_count(apis.public, route) - before == 1
