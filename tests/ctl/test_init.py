"""`settlementctl init`'s ACL decision (pure, no broker): KAFKA_MANAGE_ACLS=false leaves the
ACLs to Strimzi's User Operator, so the chart's migration hook no longer writes a second set.

Before this setting existed, init created its grants whenever the protocol was SASL: the
`false` cases below had no way to be expressed (InitSettings did not exist)."""

from __future__ import annotations

import pytest

from settlement_ctl.init import InitSettings, grants_to_apply
from settlement_ctl.kafka_acls import Principal, service_grants

REQUIRED = {
    "DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/db",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "TARGETS_FILE": "seeds/targets.yaml",
}


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> InitSettings:
    monkeypatch.delenv("KAFKA_MANAGE_ACLS", raising=False)
    for name, value in {**REQUIRED, **env}.items():
        monkeypatch.setenv(name, value)
    return InitSettings()


def test_acls_are_managed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = settings(monkeypatch, EVENTS_TOPIC="ev", DLQ_TOPIC="dlq", CONSUMER_GROUP="grp")
    assert chosen.kafka_manage_acls is True
    grants = grants_to_apply(chosen, uses_sasl=True)
    assert grants == service_grants("ev", "dlq", "grp")
    assert {g.principal for g in grants} == {Principal.INGEST, Principal.AGGREGATE, Principal.BENCH}


@pytest.mark.parametrize("value", ["false", "False", "0", "no"])
def test_kafka_manage_acls_false_creates_none(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    chosen = settings(monkeypatch, KAFKA_MANAGE_ACLS=value)
    assert chosen.kafka_manage_acls is False
    assert grants_to_apply(chosen, uses_sasl=True) == ()


def test_no_acls_without_sasl(monkeypatch: pytest.MonkeyPatch) -> None:
    assert grants_to_apply(settings(monkeypatch, KAFKA_MANAGE_ACLS="true"), uses_sasl=False) == ()


def test_a_misspelt_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="kafka_manage_acls"):
        settings(monkeypatch, KAFKA_MANAGE_ACLS="sometimes")
