"""Oracle test: a seeded random stream through the real pipeline; the Redis totals per
target x day x currency (and month, year, event counts) equal an independent Decimal
computation (tests/aggregate/streams.py), `settlementctl reconcile` finds no drift, and the
converted totals served by the API equal an independent exact FX computation. The stream
has events with one to six categories, so each target's totals include events counted
toward several targets and the shipped derivation rule; the distinct volume (`*`) counts
each of them once. About 5 % of the originals are corrected (issue 25 step 4), some early,
twice or again: each correction nets out as a reversal of its original plus its own figure."""

from __future__ import annotations

import os
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from settlement_core.auth import generate_key, hash_key
from settlement_core.db.models import Operator
from tests.aggregate import probe
from tests.aggregate.fx_oracle import converted_by_year
from tests.aggregate.streams import CATEGORIES, generate, no_rule, oracle, totals_from_fields
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("AGGREGATE_ORACLE_SEED", "20200417"))


def test_random_stream_totals_equal_the_oracle(isolated_env: dict[str, str], services: ServiceRunner) -> None:
    msgs = generate(SEED, originals=8000, correction_rate=0.05)
    kinds = {m.kind for m in msgs}
    assert {"original", "duplicate", "conflict", "reversal", "reversal-twice"} <= kinds
    assert {"correction", "correction-early", "correction-twice", "correction-chain"} <= kinds
    several = [m for m in msgs if m.kind == "original" and b'"categories":' in m.value]
    assert len(several) > 1000, "the stream must hold many multi-category events"
    assert any(m.poison for m in msgs)
    expected = oracle(msgs)
    assert expected.totals, "the oracle computed nothing"
    # The rule adds volume the events did not declare, and the distinct volume is smaller
    # than the sum over the categories (events in several categories count once there).
    assert expected.totals != oracle(msgs, no_rule).totals
    for grain_key in [k for k in expected.totals if k[0] == "*" and k[2] == "y"]:
        _, currency, _, year = grain_key
        per_category = sum(
            v for (c, cur, g, y), v in expected.totals.items() if c != "*" and (cur, g, y) == (currency, "y", year)
        )
        assert expected.totals[grain_key] < per_category

    # Small batches so that a reversal and its original often land in different batches.
    services.serve("aggregate", "settlement_aggregate", {"AGGREGATE_BATCH_SIZE": "500"})
    probe.produce(probe.producer(isolated_env), isolated_env["EVENTS_TOPIC"], msgs)
    probe.wait_caught_up(isolated_env)

    actual = totals_from_fields(probe.summed_fields(isolated_env))
    missing = {k: v for k, v in expected.totals.items() if actual.totals.get(k) != v}
    extra = {k: v for k, v in actual.totals.items() if k not in expected.totals}
    assert not missing, list(missing.items())[:5]
    assert not extra, list(extra.items())[:5]
    assert actual.counts == expected.counts
    assert (
        probe.scalar(isolated_env, "SELECT count(*) FROM ledger_events WHERE reverses IS NULL")
        == expected.counted_events
    )

    assert_reconciled(isolated_env, max_lag=None)

    # Converted totals, read through the real API, equal the independent FX computation.
    api = services.serve("api", "settlement_api")
    operator_key = generate_key()
    engine = create_engine(isolated_env["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        session.add(Operator(name="oracle", key_hash=hash_key(operator_key), active=True))
    engine.dispose()
    checked = 0
    for category in CATEGORIES:
        target = "USD" if category == "offshore" else "CNY"
        want_converted, want_unconverted = converted_by_year(expected.totals, category, target)
        response = httpx.get(
            f"{api.url}/v1/totals",
            timeout=30,
            params={"category": category, "granularity": "year", "from": "2018-01-01", "to": "2021-12-31"},
            headers={"Authorization": f"Bearer {operator_key}"},
        )
        assert response.status_code == 200, response.text
        for point in response.json()["points"]:
            year = point["period"]
            assert Decimal(point["amount"]) == want_converted.get(year, Decimal(0)), (category, year)
            got_unconverted = {c: Decimal(v) for c, v in point["unconverted"].items() if Decimal(v)}
            assert got_unconverted == {c: v for c, v in want_unconverted.get(year, {}).items() if v}
            checked += 1
    assert checked == 6 * 4
    # Without a category: the distinct volume in CNY, each event once.
    want_distinct, want_distinct_unconverted = converted_by_year(expected.totals, "*", "CNY")
    response = httpx.get(
        f"{api.url}/v1/totals",
        timeout=30,
        params={"granularity": "year", "from": "2018-01-01", "to": "2021-12-31", "currency": "CNY"},
        headers={"Authorization": f"Bearer {operator_key}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["category"] is None
    for point in response.json()["points"]:
        assert Decimal(point["amount"]) == want_distinct.get(point["period"], Decimal(0)), point["period"]
        got = {c: Decimal(v) for c, v in point["unconverted"].items() if Decimal(v)}
        assert got == {c: v for c, v in want_distinct_unconverted.get(point["period"], {}).items() if v}
