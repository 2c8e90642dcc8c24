"""H1: per-bank volumes on the anonymous /metrics.

Attack: a bank (or anyone who reaches the port) scrapes GET /metrics without a key and reads
other banks' settled volumes from settlement_bank_settled_cny{bank,target} and their
silence from settlement_bank_silent{bank}. On the starting main both series were on the
public /metrics (test_public_metrics_carry_no_bank fails there), and /metrics/banks did
not exist (404, so test_bank_metrics_need_the_scrape_token fails on its 200 check).
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ServiceRunner
from tests.security.api_stack import (
    RMB_BANKS,
    SINGLE_BANK_FIGURES,
    THIN,
    Apis,
    get,
    product_settings,
    start_apis,
)
from tests.support.pipeline import bearer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    return start_apis(isolated_env, services)


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, dict(s.labels), s.value) for f in text_string_to_metric_families(text) for s in f.samples]


@pytest.mark.parametrize("mode", ["private", "public"])
def test_public_metrics_carry_no_bank(apis: Apis, mode: str) -> None:
    response = get(getattr(apis, mode) + "/metrics")
    assert response.status_code == 200
    found = samples(response.text)
    assert any(name == "settlement_settled_cny" for name, _, _ in found)  # market-wide series are there
    assert not [s for s in found if "bank" in s[1]], "a series with a bank label on the public /metrics"
    assert not any(name.startswith("settlement_bank_") for name, _, _ in found)
    for bank in RMB_BANKS:
        assert bank not in response.text
    # Thin cells (fewer than 3 banks) are one or two banks' business: not public either.
    for figure in SINGLE_BANK_FIGURES:
        assert float(figure) not in {value for _, _, value in found}
    withheld = {labels["target"] for name, labels, v in found if name == "settlement_disclosure_suppressed" and v}
    assert set(THIN) <= withheld


def test_bank_metrics_need_the_scrape_token(apis: Apis) -> None:
    for headers in (
        {},
        bearer("wrong-token"),
        apis.operator,
        apis.banks["sec-a"],
        {"Authorization": apis.scrape_token},
    ):
        refused = get(apis.public + "/metrics/banks", headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "sec-a" not in refused.text
    allowed = get(apis.public + "/metrics/banks", bearer(apis.scrape_token))
    assert allowed.status_code == 200
    found = samples(allowed.text)
    per_bank = {(labels["bank"], labels["target"]): v for n, labels, v in found if n == "settlement_bank_settled_cny"}
    assert per_bank[("sec-a", "offshore")] > 0
    assert per_bank[("sec-d", "cross_border_rmb")] == 4000000.0
    # The thin market gauges /metrics withholds are here, for the operators' Prometheus.
    assert ("settlement_settled_cny", {"target": "mnc_headquarters", "period": "2020"}, 5555555.55) in found


def test_bank_metrics_are_off_without_a_token(isolated_env: dict[str, str], services: ServiceRunner) -> None:
    api = services.serve("api_no_token", "settlement_api", product_settings(PUBLIC_MODE="true"))
    assert httpx.get(f"{api.url}/metrics/banks", timeout=30).status_code == 404
    assert httpx.get(f"{api.url}/metrics/banks", headers=bearer("guess"), timeout=30).status_code == 404
