"""The transparency-log integrator (docs/receipts.md) in the Helm chart and docker-compose.yml:
one replica, the log's keys only by Secret reference and only for it and ingest, PostgreSQL
as its only peer; and `make lint-deploy` reports each planted violation.

Before this work neither the chart nor compose ran the integrator, and the lint did not know
`python -m settlement_aggregate.integrator` (an unknown entry point) nor that TLOG_SIGNING_KEY
and TLOG_SALT_KEY are credentials: every assertion below fails on that code.

Offline: helm (deploy/lint/ensure-helm.sh) renders the chart; no cluster, Docker or stack.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy.lint import chart_policy, chart_security, compose, manifests
from deploy.lint.helm import Helm, ensure_helm

from tests.conftest import ROOT
from tests.deploy.test_lint_security import checkout_copy

CHART = ROOT / "deploy" / "helm" / "settlement-tracker"
CI_VALUES = CHART / "ci"
TLOG_KEYS = {"TLOG_SIGNING_KEY", "TLOG_SALT_KEY"}


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm(ensure_helm(), manifests.KUBERNETES_VERSION)


@pytest.fixture(scope="module")
def docs(helm: Helm) -> list[dict[str, Any]]:
    rendered, findings = helm.template(CHART, CI_VALUES / "minimal-values.yaml")
    assert findings == []
    return rendered


def _one(docs: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]
    return doc


def _env(docs: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = _one(docs, "Deployment", suffix)["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


def test_the_integrator_is_one_replica_with_the_log_keys_by_reference(docs: list[dict[str, Any]]) -> None:
    deployment = _one(docs, "Deployment", "-integrator")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "settlement_aggregate.integrator"]
    env = {e["name"]: e for e in container["env"]}
    for name in TLOG_KEYS:
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "settlement-tlog-keys", name
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "settlement-tracker-connections"
    # the ledger only: no Redis URL, no Kafka credentials, no key for banks' HMAC secrets
    assert not {"REDIS_URL", "KAFKA_PASSWORD", "KAFKA_USERNAME", "SECRETS_ENCRYPTION_KEY"} & set(env)
    assert "envFrom" not in container
    # ingest signs the receipt promises with the same Secret; the api and aggregate never see it
    ingest = {e["name"]: e for e in _env(docs, "-ingest")}
    assert all(ingest[n]["valueFrom"]["secretKeyRef"]["name"] == "settlement-tlog-keys" for n in TLOG_KEYS)
    assert ingest["TLOG_ORIGIN"]["value"] == env["TLOG_ORIGIN"]["value"] == "settlement-tracker.example/log"
    for other in ("-api", "-aggregate"):
        assert not {e["name"] for e in _env(docs, other)} & (TLOG_KEYS | {"TLOG_ORIGIN"}), other


def test_the_integrator_reaches_postgresql_only_and_accepts_nothing(docs: list[dict[str, Any]]) -> None:
    policy = _one(docs, "NetworkPolicy", "-integrator")["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "integrator"
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []
    dns, postgresql = policy["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert postgresql["to"] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "settlement-pg"}}}]
    assert postgresql["ports"] == [{"port": 5432, "protocol": "TCP"}]


def test_without_the_log_there_is_no_integrator_and_ingest_signs_nothing(helm: Helm) -> None:
    rendered, findings = helm.template(
        CHART, CI_VALUES / "minimal-values.yaml", "--set", "tlog.enabled=false", "--set", "tlog.existingSecret="
    )
    assert findings == []
    assert not [d for d in rendered if d["metadata"]["name"].endswith("-integrator")]
    assert not {e["name"] for e in _env(rendered, "-ingest")} & TLOG_KEYS
    assert chart_policy.check(rendered, chart_policy.Repo(ROOT)) == []


def _integrator_env(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _env(docs, "-integrator")


def _reaches_kafka(docs: list[dict[str, Any]]) -> None:
    rules = _one(docs, "NetworkPolicy", "-ingest")["spec"]["egress"]
    kafka = next(r for r in rules if any(p["port"] == 9092 for p in r["ports"]))
    _one(docs, "NetworkPolicy", "-integrator")["spec"]["egress"].append(copy.deepcopy(kafka))


def _gets_secrets_key(docs: list[dict[str, Any]]) -> None:
    entry = next(e for e in _env(docs, "-ingest") if e["name"] == "SECRETS_ENCRYPTION_KEY")
    _integrator_env(docs).append(copy.deepcopy(entry))


def _gets_kafka_password(docs: list[dict[str, Any]]) -> None:
    entry = next(e for e in _env(docs, "-ingest") if e["name"] == "KAFKA_PASSWORD")
    _integrator_env(docs).append(copy.deepcopy(entry))


def _no_policy(docs: list[dict[str, Any]]) -> None:
    docs.remove(_one(docs, "NetworkPolicy", "-integrator"))


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        pytest.param(_reaches_kafka, "lets a pod without Kafka credentials reach Kafka", id="egress-to-kafka"),
        pytest.param(
            _gets_secrets_key,
            "settlement_aggregate.integrator never reads a bank's secret, yet has SECRETS_ENCRYPTION_KEY",
            id="secrets-key",
        ),
        pytest.param(_gets_kafka_password, "never talks to Kafka, yet has KAFKA_PASSWORD", id="kafka-password"),
        pytest.param(_no_policy, "selected by no NetworkPolicy of its own component", id="no-policy"),
    ],
)
def test_chart_security_finds_a_planted_integrator_violation(
    docs: list[dict[str, Any]], plant: Any, expected: str
) -> None:
    planted = copy.deepcopy(docs)
    assert chart_security.check(planted) == []
    plant(planted)
    findings = "\n".join(str(f) for f in chart_security.check(planted))
    assert expected in findings, findings


@pytest.mark.parametrize("name", sorted(TLOG_KEYS))
def test_a_literal_log_key_in_the_chart_is_a_finding(docs: list[dict[str, Any]], name: str) -> None:
    planted = copy.deepcopy(docs)
    assert chart_policy.check(planted, chart_policy.Repo(ROOT)) == []
    entry = next(e for e in _integrator_env(planted) if e["name"] == name)
    entry.pop("valueFrom")
    entry["value"] = "00" * 32
    messages = [str(f) for f in chart_policy.check(planted, chart_policy.Repo(ROOT))]
    where = "Deployment/lint-settlement-tracker-integrator container integrator"
    assert f"{where}: {name} is a credential: use valueFrom.secretKeyRef" in messages, messages


def test_a_missing_log_key_in_the_chart_is_a_finding(docs: list[dict[str, Any]]) -> None:
    planted = copy.deepcopy(docs)
    env = _integrator_env(planted)
    env[:] = [e for e in env if e["name"] != "TLOG_SALT_KEY"]
    messages = [str(f) for f in chart_policy.check(planted, chart_policy.Repo(ROOT))]
    assert any("TLOG_SALT_KEY is required by settlement_aggregate.integrator settings" in m for m in messages), messages


# --- docker-compose.yml ----------------------------------------------------------------------


def _compose_messages(root: Path) -> list[str]:
    return [
        str(f)
        for f in compose.check(
            root / "docker-compose.yml", {"ingest": "/readyz", "aggregate": "/readyz", "api": "/healthz"}
        )
    ]


def test_compose_runs_the_integrator_with_the_log_keys_from_the_environment() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    integrator = services["integrator"]
    assert integrator["command"] == ["python", "-m", "settlement_aggregate.integrator"]
    env = integrator["environment"]
    assert env["TLOG_SIGNING_KEY"] == "${TLOG_SIGNING_KEY:?set TLOG_SIGNING_KEY}"
    assert env["TLOG_SALT_KEY"] == "${TLOG_SALT_KEY:?set TLOG_SALT_KEY}"
    assert not {"REDIS_URL", "KAFKA_PASSWORD", "SECRETS_ENCRYPTION_KEY"} & set(env)
    assert "ports" not in integrator
    assert set(services["ingest"]["environment"]) >= TLOG_KEYS
    assert not TLOG_KEYS & set(services["api"]["environment"])
    assert not TLOG_KEYS & set(services["aggregate"]["environment"])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "  TLOG_SIGNING_KEY: ${TLOG_SIGNING_KEY:?set TLOG_SIGNING_KEY}\n",
            "  TLOG_SIGNING_KEY: PRIVATE+KEY+settlement-tracker.local/log+00000000+AQ==\n",
            "services.integrator: TLOG_SIGNING_KEY must take its password from ${...} interpolation",
            id="literal-signing-key",
        ),
        pytest.param(
            "  TLOG_SALT_KEY: ${TLOG_SALT_KEY:?set TLOG_SALT_KEY}\n",
            "",
            "services.integrator: TLOG_SALT_KEY is required by settlement_aggregate.integrator settings and not set",
            id="no-salt-key",
        ),
        pytest.param(
            '    command: ["python", "-m", "settlement_aggregate.integrator"]\n    environment:\n',
            '    command: ["python", "-m", "settlement_aggregate.integrator"]\n    environment:\n'
            "      KAFKA_PASSWORD: ${KAFKA_AGGREGATE_PASSWORD:?set KAFKA_AGGREGATE_PASSWORD}\n",
            "services.integrator: settlement_aggregate.integrator never talks to Kafka, yet has KAFKA_PASSWORD",
            id="kafka-password",
        ),
    ],
)
def test_compose_lint_finds_a_planted_integrator_violation(tmp_path: Path, old: str, new: str, expected: str) -> None:
    root = checkout_copy(tmp_path)
    assert _compose_messages(root) == []
    path = root / "docker-compose.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    messages = _compose_messages(root)
    assert any(expected in m for m in messages), messages
