"""The security rules of `make lint-deploy` (issue 20): each planted violation is reported,
and the repository's compose file, chart renders and examples pass them.

On the starting main every one of these plants passed unnoticed: compose published
0.0.0.0 ports, ran Prometheus with --web.enable-lifecycle and Kafka on PLAINTEXT, Redis had no
maxmemory, the chart had no NetworkPolicy, and there were no kafka_auth, network_policy,
metrics_exposure, redis_memory or compose_security checks to report any of it.
The SECRETS_ENCRYPTION_KEY plants (a key for the api or aggregate, none for ingest or
settlementctl, a literal key) passed unnoticed before deploy/lint/secrets_key.py: the lint did
not know the name at all, and the chart and compose did not pass it. Before the ACL list was
read from settlement_ctl.kafka_acls, a grant added there was never compared with the KafkaUsers.

Offline: helm (deploy/lint/ensure-helm.sh) renders the chart; no cluster, Docker or stack.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy.lint import chart_security, compose, compose_security, kafka_auth, manifests, metrics_exposure
from deploy.lint.examples import lint_examples
from deploy.lint.helm import Helm, ensure_helm

from tests.conftest import ROOT

CHART = ROOT / "deploy" / "helm" / "settlement-tracker"
CI_VALUES = CHART / "ci"
COMPOSE = ROOT / "docker-compose.yml"
BROKER_PROPERTIES = Path("deploy/compose/kafka/server.properties")
DOCKER_PROMETHEUS = Path("deploy/prometheus/docker/prometheus.yml")


def checkout_copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "deploy", root / "deploy", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _plant(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}: update the test to the file"
    path.write_text(text.replace(old, new, 1))


def _security_findings(root: Path) -> str:
    path = root / "docker-compose.yml"
    top = yaml.safe_load(path.read_text())
    commands = {name: compose._command(service, root) for name, service in top["services"].items()}
    return "\n".join(str(f) for f in compose_security.check(path, commands))


# --- docker-compose.yml ----------------------------------------------------------------------

COMPOSE_PLANTS = [
    pytest.param(
        "docker-compose.yml",
        '"${BIND_ADDRESS:-127.0.0.1}:8002:8002"',
        '"8002:8002"',
        "services.api: port 8002:8002 binds all interfaces",
        id="port-on-all-interfaces",
    ),
    pytest.param(
        "docker-compose.yml",
        '"${BIND_ADDRESS:-127.0.0.1}:9090:9090"',
        '"0.0.0.0:9090:9090"',
        "services.prometheus: port 0.0.0.0:9090:9090 binds 0.0.0.0",
        id="port-on-0.0.0.0",
    ),
    pytest.param(
        "docker-compose.yml",
        '"${BIND_ADDRESS:-127.0.0.1}:3000:3000"',
        '"${BIND_ADDRESS:-0.0.0.0}:3000:3000"',
        "services.grafana: port ${BIND_ADDRESS:-0.0.0.0}:3000:3000 binds 0.0.0.0",
        id="port-default-not-loopback",
    ),
    pytest.param(
        "docker-compose.yml",
        'command: ["--config.file=/etc/prometheus/prometheus.yml"]',
        'command: ["--config.file=/etc/prometheus/prometheus.yml", "--web.enable-lifecycle"]',
        "Prometheus runs with --web.enable-lifecycle",
        id="prometheus-lifecycle",
    ),
    pytest.param(
        "docker-compose.yml",
        '"--maxmemory-policy", "noeviction"',
        '"--maxmemory-policy", "allkeys-lru"',
        "services.redis: --maxmemory-policy is allkeys-lru, want noeviction",
        id="redis-eviction",
    ),
    pytest.param(
        "docker-compose.yml",
        '"--maxmemory", "1gb", ',
        "",
        "services.redis: Redis has no --maxmemory",
        id="redis-unbounded",
    ),
    pytest.param(
        str(BROKER_PROPERTIES),
        "CLIENT:SASL_PLAINTEXT",
        "CLIENT:PLAINTEXT",
        "services.kafka: listener CLIENT is PLAINTEXT: every listener must authenticate",
        id="plaintext-listener",
    ),
    pytest.param(
        "docker-compose.yml",
        '    entrypoint: ["/bin/bash", "/opt/settlement/kafka/start.sh"]\n',
        '    entrypoint: ["/bin/bash", "/opt/settlement/kafka/start.sh"]\n'
        "    environment:\n"
        "      KAFKA_LISTENERS: PLAINTEXT://:9094,CLIENT://:9092,CONTROLLER://:9093\n"
        "      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:"
        " PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT\n",
        "services.kafka: listener PLAINTEXT is PLAINTEXT",
        id="plaintext-listener-by-env",
    ),
    pytest.param(
        str(BROKER_PROPERTIES),
        "allow.everyone.if.no.acl.found=false",
        "allow.everyone.if.no.acl.found=true",
        "allow.everyone.if.no.acl.found must be false",
        id="allow-everyone",
    ),
    pytest.param(
        str(BROKER_PROPERTIES),
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n",
        "",
        "authorizer.class.name is not org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        id="no-authorizer",
    ),
    pytest.param(
        str(BROKER_PROPERTIES),
        "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
        "listener CLIENT enables SASL mechanisms SCRAM-SHA-512,PLAIN, want only SCRAM-SHA-512",
        id="plain-mechanism-on-clients",
    ),
    pytest.param(
        "docker-compose.yml",
        "<<: [*service-env, *kafka-client, *tlog-env]\n      KAFKA_USERNAME: ingest",
        "<<: [*service-env, *tlog-env]\n      KAFKA_USERNAME: ingest",
        "services.ingest: KAFKA_SECURITY_PROTOCOL is None, want one of ['SASL_PLAINTEXT', 'SASL_SSL']",
        id="ingest-without-sasl",
    ),
    pytest.param(
        "docker-compose.yml",
        "KAFKA_USERNAME: aggregate",
        "KAFKA_USERNAME: ingest",
        "services.aggregate: KAFKA_USERNAME is ingest, want its own: aggregate",
        id="aggregate-borrows-ingest-principal",
    ),
    pytest.param(
        "docker-compose.yml",
        '      API_PORT: "8002"\n',
        '      API_PORT: "8002"\n      KAFKA_USERNAME: ingest\n      KAFKA_PASSWORD: ${KAFKA_INGEST_PASSWORD}\n',
        "services.api: settlement_api never talks to Kafka, yet has KAFKA_PASSWORD, KAFKA_USERNAME",
        id="api-with-kafka-credentials",
    ),
    pytest.param(
        "docker-compose.yml",
        "KAFKA_PASSWORD: ${KAFKA_INGEST_PASSWORD:?set KAFKA_INGEST_PASSWORD}",
        "KAFKA_PASSWORD: 0123456789abcdef0123",
        "services.ingest: KAFKA_PASSWORD must come from ${...} interpolation",
        id="literal-kafka-password",
    ),
    pytest.param(
        "docker-compose.yml",
        '      API_PORT: "8002"\n',
        '      API_PORT: "8002"\n      SECRETS_ENCRYPTION_KEY: ${SECRETS_ENCRYPTION_KEY}\n',
        "services.api: settlement_api never reads a bank's secret, yet has SECRETS_ENCRYPTION_KEY",
        id="api-with-secrets-key",
    ),
    pytest.param(
        "docker-compose.yml",
        '      AGGREGATE_PORT: "8003"\n',
        '      AGGREGATE_PORT: "8003"\n      SECRETS_ENCRYPTION_KEY_PREVIOUS: ${SECRETS_ENCRYPTION_KEY_PREVIOUS:-}\n',
        "services.aggregate: settlement_aggregate never reads a bank's secret, yet has SECRETS_ENCRYPTION_KEY_PREVIOUS",
        id="aggregate-with-previous-secrets-key",
    ),
    pytest.param(
        "docker-compose.yml",
        "      # Only ingest and init have it: the api and aggregate never read a bank's secret.\n"
        "      SECRETS_ENCRYPTION_KEY: ${SECRETS_ENCRYPTION_KEY:?set SECRETS_ENCRYPTION_KEY}\n",
        "",
        "services.ingest: settlement_ingest needs SECRETS_ENCRYPTION_KEY",
        id="ingest-without-secrets-key",
    ),
    pytest.param(
        "docker-compose.yml",
        "      SECRETS_ENCRYPTION_KEY: ${SECRETS_ENCRYPTION_KEY:?set SECRETS_ENCRYPTION_KEY}\n",
        "",
        "services.init: settlement_core needs SECRETS_ENCRYPTION_KEY",
        id="init-without-secrets-key",
    ),
    pytest.param(
        "docker-compose.yml",
        "SECRETS_ENCRYPTION_KEY: ${SECRETS_ENCRYPTION_KEY:?set SECRETS_ENCRYPTION_KEY}",
        "SECRETS_ENCRYPTION_KEY: 0123456789abcdef0123456789abcdef",
        "services.init: SECRETS_ENCRYPTION_KEY must come from ${...} interpolation",
        id="literal-secrets-key",
    ),
    pytest.param(
        str(DOCKER_PROMETHEUS),
        "credentials_file: /run/secrets/metrics_scrape_token",
        "credentials: 0123456789abcdef",
        "job api-banks: scrape token written into the config",
        id="inline-scrape-token",
    ),
    pytest.param(
        "docker-compose.yml",
        "    secrets: [metrics_scrape_token]\n",
        "",
        "credentials_file /run/secrets/metrics_scrape_token is no mounted secret",
        id="scrape-token-not-mounted",
    ),
    pytest.param(
        str(DOCKER_PROMETHEUS),
        "metrics_path: /metrics/banks",
        "metrics_path: /metrics",
        "no scrape job for /metrics/banks",
        id="per-bank-series-not-scraped",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), COMPOSE_PLANTS)
def test_compose_security_finds_planted_violation(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = checkout_copy(tmp_path)
    assert _security_findings(root) == ""
    _plant(root / file, old, new)
    findings = _security_findings(root)
    assert expected in findings, findings


def test_compose_security_passes_on_the_repository() -> None:
    assert _security_findings(ROOT) == ""


def test_compose_check_runs_the_security_rules(tmp_path: Path) -> None:
    """`python -m deploy.lint --only compose` (compose.check) includes compose_security."""
    root = checkout_copy(tmp_path)
    _plant(root / "docker-compose.yml", '"${BIND_ADDRESS:-127.0.0.1}:8001:8001"', '"8001:8001"')
    messages = [str(f) for f in compose.check(root / "docker-compose.yml", {"ingest": "/readyz"})]
    assert any("port 8001:8001 binds all interfaces" in m for m in messages), messages


@pytest.mark.parametrize(
    ("entry", "host"),
    [
        ("127.0.0.1:8001:8001", "127.0.0.1"),
        ("[::1]:8001:8001", "[::1]"),
        ("${BIND_ADDRESS:-127.0.0.1}:8001:8001", "127.0.0.1"),
        ("8001:8001", None),
        ("8001", None),
        ({"target": 8001, "published": 8001, "host_ip": "127.0.0.1"}, "127.0.0.1"),
        ({"target": 8001, "published": 8001}, None),
    ],
)
def test_port_bindings_are_read_in_every_compose_syntax(entry: object, host: str | None) -> None:
    assert compose_security._host_ip(entry) == host


# --- the chart -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm(ensure_helm(), manifests.KUBERNETES_VERSION)


@pytest.fixture(scope="module")
def all_values(helm: Helm) -> list[dict[str, Any]]:
    docs, findings = helm.template(CHART, CI_VALUES / "all-values.yaml")
    assert findings == []
    return docs


def _one(docs: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]
    return doc


@pytest.mark.parametrize("values", ["minimal-values.yaml", "ha-keda-values.yaml", "all-values.yaml"])
def test_chart_security_passes_on_every_ci_render(helm: Helm, values: str) -> None:
    docs, findings = helm.template(CHART, CI_VALUES / values)
    assert findings == []
    assert chart_security.check(docs) == []
    kinds = [d["kind"] for d in docs]
    assert kinds.count("NetworkPolicy") == 6  # default deny + ingest, aggregate, api, migration, integrator


def _drop_default_deny(docs: list[dict[str, Any]]) -> None:
    docs.remove(_one(docs, "NetworkPolicy", "-default-deny"))


def _open_egress(docs: list[dict[str, Any]]) -> None:
    _one(docs, "NetworkPolicy", "-ingest")["spec"]["egress"].append({"ports": [{"port": 443}]})


def _portless_ingress(docs: list[dict[str, Any]]) -> None:
    _one(docs, "NetworkPolicy", "-api")["spec"]["ingress"][0].pop("ports")


def _api_reaches_kafka(docs: list[dict[str, Any]]) -> None:
    ingest_rules = _one(docs, "NetworkPolicy", "-ingest")["spec"]["egress"]
    kafka = next(r for r in ingest_rules if any(p["port"] == 9092 for p in r["ports"]))
    _one(docs, "NetworkPolicy", "-api")["spec"]["egress"].append(copy.deepcopy(kafka))


def _unselected_pod(docs: list[dict[str, Any]]) -> None:
    labels = _one(docs, "Deployment", "-api")["spec"]["template"]["metadata"]["labels"]
    labels["app.kubernetes.io/component"] = "api-canary"


def _no_policies(docs: list[dict[str, Any]]) -> None:
    docs[:] = [d for d in docs if d["kind"] != "NetworkPolicy"]


def _ingress_root_prefix(docs: list[dict[str, Any]]) -> None:
    paths = _one(docs, "Ingress", "")["spec"]["rules"][1]["http"]["paths"]
    next(p for p in paths if p["path"] == "/")["pathType"] = "Prefix"


def _ingress_metrics_exact(docs: list[dict[str, Any]]) -> None:
    paths = _one(docs, "Ingress", "")["spec"]["rules"][1]["http"]["paths"]
    paths.append({**copy.deepcopy(paths[0]), "path": "/metrics/banks", "pathType": "Exact"})


def _ingress_default_backend(docs: list[dict[str, Any]]) -> None:
    ingress = _one(docs, "Ingress", "")
    ingress["spec"]["defaultBackend"] = copy.deepcopy(ingress["spec"]["rules"][1]["http"]["paths"][0]["backend"])


def _banks_scrape_without_token(docs: list[dict[str, Any]]) -> None:
    _one(docs, "ServiceMonitor", "-api-banks")["spec"]["endpoints"][0].pop("authorization")


def _banks_not_scraped(docs: list[dict[str, Any]]) -> None:
    docs.remove(_one(docs, "ServiceMonitor", "-api-banks"))


def _plaintext_client(docs: list[dict[str, Any]]) -> None:
    _one(docs, "ConfigMap", "-config")["data"]["KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"


def _api_gets_kafka_password(docs: list[dict[str, Any]]) -> None:
    ingest_env = _one(docs, "Deployment", "-ingest")["spec"]["template"]["spec"]["containers"][0]["env"]
    password = next(e for e in ingest_env if e["name"] == "KAFKA_PASSWORD")
    _one(docs, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0]["env"].append(password)


def _migration_as_ingest(docs: list[dict[str, Any]]) -> None:
    env = _one(docs, "Job", "-migration")["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "KAFKA_USERNAME")["value"] = "ingest"


def _env_of(docs: list[dict[str, Any]], kind: str, suffix: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = _one(docs, kind, suffix)["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


def _secrets_key_entry(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(
        next(e for e in _env_of(docs, "Deployment", "-ingest") if e["name"] == "SECRETS_ENCRYPTION_KEY")
    )


def _aggregate_gets_secrets_key(docs: list[dict[str, Any]]) -> None:
    _env_of(docs, "Deployment", "-aggregate").append(_secrets_key_entry(docs))


def _api_gets_previous_secrets_key(docs: list[dict[str, Any]]) -> None:
    _env_of(docs, "Deployment", "-api").append({**_secrets_key_entry(docs), "name": "SECRETS_ENCRYPTION_KEY_PREVIOUS"})


def _ingest_without_secrets_key(docs: list[dict[str, Any]]) -> None:
    env = _env_of(docs, "Deployment", "-ingest")
    env[:] = [e for e in env if not e["name"].startswith("SECRETS_ENCRYPTION_KEY")]


def _migration_without_secrets_key(docs: list[dict[str, Any]]) -> None:
    env = _env_of(docs, "Job", "-migration")
    env[:] = [e for e in env if not e["name"].startswith("SECRETS_ENCRYPTION_KEY")]


def _migration_secrets_key_literal(docs: list[dict[str, Any]]) -> None:
    entry = next(e for e in _env_of(docs, "Job", "-migration") if e["name"] == "SECRETS_ENCRYPTION_KEY")
    entry.pop("valueFrom")
    entry["value"] = "0123456789abcdef0123456789abcdef"


def _secrets_key_in_config_map(docs: list[dict[str, Any]]) -> None:
    _ingest_without_secrets_key(docs)
    _one(docs, "ConfigMap", "-config")["data"]["SECRETS_ENCRYPTION_KEY"] = "0123456789abcdef0123456789abcdef"


CHART_PLANTS = [
    pytest.param(_no_policies, "renders no NetworkPolicy", id="no-network-policy"),
    pytest.param(_drop_default_deny, "no default-deny NetworkPolicy", id="no-default-deny"),
    pytest.param(_open_egress, "egress[4] has no `to`: it allows any peer", id="egress-to-anyone"),
    pytest.param(_portless_ingress, "ingress[0] has no `ports`: it allows every port", id="ingress-any-port"),
    pytest.param(_api_reaches_kafka, "lets a pod without Kafka credentials reach Kafka", id="api-egress-to-kafka"),
    pytest.param(_unselected_pod, "selected by no NetworkPolicy of its own component", id="pod-without-policy"),
    pytest.param(_ingress_root_prefix, "path / (Prefix) routes /metrics to the Internet", id="ingress-root-prefix"),
    pytest.param(_ingress_metrics_exact, "path /metrics/banks (Exact) routes /metrics/banks", id="ingress-banks"),
    pytest.param(_ingress_default_backend, "has a defaultBackend", id="ingress-default-backend"),
    pytest.param(_banks_scrape_without_token, "scrapes /metrics/banks without authorization", id="scrape-no-token"),
    pytest.param(_banks_not_scraped, "none scrapes /metrics/banks", id="banks-not-scraped"),
    pytest.param(_plaintext_client, "KAFKA_SECURITY_PROTOCOL is PLAINTEXT", id="plaintext-client"),
    pytest.param(_api_gets_kafka_password, "never talks to Kafka, yet has KAFKA_PASSWORD", id="api-kafka-password"),
    pytest.param(_migration_as_ingest, "KAFKA_USERNAME is ingest, want its own: admin", id="migration-principal"),
    pytest.param(
        _aggregate_gets_secrets_key,
        "Deployment/lint-settlement-tracker-aggregate container aggregate: settlement_aggregate never reads a bank's"
        " secret, yet has SECRETS_ENCRYPTION_KEY",
        id="aggregate-secrets-key",
    ),
    pytest.param(
        _api_gets_previous_secrets_key,
        "settlement_api never reads a bank's secret, yet has SECRETS_ENCRYPTION_KEY_PREVIOUS",
        id="api-previous-secrets-key",
    ),
    pytest.param(
        _ingest_without_secrets_key,
        "container ingest: settlement_ingest needs SECRETS_ENCRYPTION_KEY",
        id="ingest-no-secrets-key",
    ),
    pytest.param(
        _migration_without_secrets_key,
        "container migration: settlement_core needs SECRETS_ENCRYPTION_KEY",
        id="migration-no-secrets-key",
    ),
    pytest.param(
        _migration_secrets_key_literal,
        "container migration: SECRETS_ENCRYPTION_KEY is a literal: take it from a Secret",
        id="migration-secrets-key-literal",
    ),
    pytest.param(
        _secrets_key_in_config_map,
        "container ingest: SECRETS_ENCRYPTION_KEY is a literal: take it from a Secret",
        id="secrets-key-in-config-map",
    ),
]


@pytest.mark.parametrize(("plant", "expected"), CHART_PLANTS)
def test_chart_security_finds_planted_violation(
    all_values: list[dict[str, Any]], plant: Callable[[list[dict[str, Any]]], None], expected: str
) -> None:
    docs = copy.deepcopy(all_values)
    plant(docs)
    findings = "\n".join(str(f) for f in chart_security.check(docs))
    assert expected in findings, findings


@pytest.mark.parametrize(
    ("flags", "pointer"),
    [
        (["--set", "kafka.securityProtocol=PLAINTEXT"], "/kafka/securityProtocol"),
        (["--set", "kafka.saslMechanism=PLAIN"], "/kafka/saslMechanism"),
        (["--set", "ingress.enabled=true", "--set", "ingress.api.paths[0].path=/metrics"], "/ingress/api/paths/0"),
    ],
)
def test_values_schema_refuses_insecure_settings(helm: Helm, flags: list[str], pointer: str) -> None:
    docs, findings = helm.template(CHART, CI_VALUES / "minimal-values.yaml", *flags)
    assert docs == []
    assert pointer in findings[0].message


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--set", "kafka.credentials.ingest.existingSecret="], "kafka.credentials.ingest.existingSecret is required"),
        (["--set", "monitoring.serviceMonitor.enabled=true"], "needs metrics.scrapeToken.existingSecret"),
        (["--set", "secretsEncryption.existingSecret="], "secretsEncryption.existingSecret is required"),
        (["--set", "ingress.enabled=true"], "ingress.ingest.host and ingress.api.host are required"),
    ],
)
def test_templates_refuse_missing_credentials(helm: Helm, flags: list[str], message: str) -> None:
    docs, findings = helm.template(CHART, CI_VALUES / "minimal-values.yaml", *flags)
    assert docs == []
    assert message in findings[0].message


def test_each_component_gets_only_its_own_kafka_principal(all_values: list[dict[str, Any]]) -> None:
    def env(kind: str, suffix: str) -> dict[str, Any]:
        container = _one(all_values, kind, suffix)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"]: e for e in container["env"]}

    for kind, suffix, principal in (
        ("Deployment", "-ingest", "ingest"),
        ("Deployment", "-aggregate", "aggregate"),
        ("Job", "-migration", "admin"),
    ):
        variables = env(kind, suffix)
        assert variables["KAFKA_USERNAME"]["value"] == principal
        assert variables["KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"settlement-kafka-{principal}"
    api = env("Deployment", "-api")
    assert "KAFKA_PASSWORD" not in api
    assert "KAFKA_USERNAME" not in api
    assert api["METRICS_SCRAPE_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "settlement-metrics-scrape"


def test_only_ingest_and_the_migration_hook_get_the_secrets_key(helm: Helm, all_values: list[dict[str, Any]]) -> None:
    """all-values.yaml names a previous key too (rotation); both come from the one Secret."""

    def env(docs: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
        return {e["name"]: e for e in _env_of(docs, kind, suffix)}

    for kind, suffix in (("Deployment", "-ingest"), ("Job", "-migration")):
        variables = env(all_values, kind, suffix)
        for name, key in (("SECRETS_ENCRYPTION_KEY", "current"), ("SECRETS_ENCRYPTION_KEY_PREVIOUS", "previous")):
            assert variables[name]["valueFrom"]["secretKeyRef"] == {"name": "settlement-secrets-key", "key": key}
    for suffix in ("-api", "-aggregate"):
        assert not {n for n in env(all_values, "Deployment", suffix) if n.startswith("SECRETS_ENCRYPTION_KEY")}
    minimal, findings = helm.template(CHART, CI_VALUES / "minimal-values.yaml")
    assert findings == []
    ingest = env(minimal, "Deployment", "-ingest")
    assert ingest["SECRETS_ENCRYPTION_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "SECRETS_ENCRYPTION_KEY"
    assert "SECRETS_ENCRYPTION_KEY_PREVIOUS" not in ingest  # no rotation under way


@pytest.mark.parametrize(("values", "manage"), [("all-values.yaml", "true"), ("ha-keda-values.yaml", "false")])
def test_migration_hook_leaves_acls_to_strimzi_when_told(helm: Helm, values: str, manage: str) -> None:
    """kafka.manageAcls=false (the Strimzi shape) reaches settlementctl init as KAFKA_MANAGE_ACLS."""
    docs, findings = helm.template(CHART, CI_VALUES / values)
    assert findings == []
    env = {e["name"]: e for e in _env_of(docs, "Job", "-migration")}
    assert env["KAFKA_MANAGE_ACLS"]["value"] == manage


def test_ingress_path_matching() -> None:
    routes = metrics_exposure._routes_to
    assert routes("/", "Prefix", "/metrics")
    assert routes("/metrics", "Prefix", "/metrics/banks")
    assert not routes("/", "Exact", "/metrics")
    assert not routes("/v1", "Prefix", "/metrics")
    assert not routes("/m", "Prefix", "/metrics")  # Prefix matches whole path elements
    assert routes("/m", "ImplementationSpecific", "/metrics")  # may be a string prefix or regex


# --- operator examples -----------------------------------------------------------------------

STRIMZI = "strimzi-kafka.yaml"
EXAMPLE_PLANTS = [
    pytest.param(
        STRIMZI,
        "        tls: false\n        authentication:\n          type: scram-sha-512\n",
        "        tls: false\n",
        "listener scram has authentication None: a PLAINTEXT listener",
        id="listener-without-authentication",
    ),
    pytest.param(
        STRIMZI,
        "    authorization:\n      type: simple\n      superUsers:\n        - admin\n",
        "",
        "authorization.type is not simple",
        id="no-authorization",
    ),
    pytest.param(
        STRIMZI,
        "        operations: [Write, Describe]\n",
        "        operations: [Write, Describe, Read]\n",
        "KafkaUser/ingest: ACL not in the specification: allow Read on topic settlement.events (literal)",
        id="ingest-may-read",
    ),
    pytest.param(
        STRIMZI,
        "name: settlement.events.dlq, patternType: literal}",
        "name: settlement.events, patternType: prefix}",
        "KafkaUser/aggregate: ACL missing: allow Write on topic settlement.events.dlq (literal)",
        id="aggregate-prefix-instead-of-dlq",
    ),
    pytest.param(
        STRIMZI,
        "  name: admin\n  namespace: kafka",
        "  name: bench\n  namespace: kafka",
        "KafkaUser/bench: principal bench is none of ['admin', 'aggregate', 'ingest']",
        id="unexpected-principal",
    ),
    pytest.param(
        STRIMZI,
        "  name: admin\n  namespace: kafka",
        "  name: bench\n  namespace: kafka",
        "no KafkaUser for principal admin",
        id="missing-principal",
    ),
    pytest.param(
        STRIMZI,
        "      - resource: {type: group, name: settlement-aggregate, patternType: literal}\n"
        "        operations: [Read, Describe]\n",
        "      - resource: {type: group, name: settlement-aggregate, patternType: literal}\n"
        "        operations: [Read]\n",
        "KafkaUser/aggregate: ACL missing: allow Describe on group settlement-aggregate (literal)",
        id="aggregate-differs-from-settlementctl",
    ),
    pytest.param(
        "valkey.yaml",
        "            - noeviction\n",
        "            - volatile-lru\n",
        "--maxmemory-policy is volatile-lru, want noeviction",
        id="valkey-eviction",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), EXAMPLE_PLANTS)
def test_examples_security_finds_planted_violation(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    root = checkout_copy(tmp_path)
    _plant(root / "deploy/helm/examples" / file, old, new)
    findings = "\n".join(str(f) for f in lint_examples(root, manifests.KUBERNETES_VERSION))
    assert expected in findings, findings


def test_kafka_user_acls_are_exactly_the_specification() -> None:
    docs = list(yaml.safe_load_all((ROOT / "deploy/helm/examples" / STRIMZI).read_text()))
    users = {d["metadata"]["name"]: kafka_auth.kafka_user_acls(d) for d in docs if d["kind"] == "KafkaUser"}
    assert users == kafka_auth.expected_acls("settlement.events", "settlement.events.dlq", "settlement-aggregate")


def test_kafka_user_acls_are_settlementctls_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One source of truth: the lint's expectation is settlement_ctl.kafka_acls.service_grants
    itself, so a grant added to settlementctl's list and not to the KafkaUsers is reported."""
    from kafka.admin import ACLOperation, ResourceType

    from settlement_ctl import kafka_acls

    expected = kafka_auth.expected_acls("settlement.events", "settlement.events.dlq", "settlement-aggregate")
    grants = kafka_acls.service_grants("settlement.events", "settlement.events.dlq", "settlement-aggregate")
    deployed = [g for g in grants if g.principal in kafka_auth.DEPLOYED_PRINCIPALS]
    assert sum(len(acls) for acls in expected.values()) == len(deployed) == 10

    def one_more(events_topic: str, dlq_topic: str, consumer_group: str) -> tuple[kafka_acls.Grant, ...]:
        extra = kafka_acls.Grant(kafka_acls.Principal.INGEST, ACLOperation.READ, ResourceType.TOPIC, dlq_topic)
        return (*kafka_acls.service_grants(events_topic, dlq_topic, consumer_group), extra)

    monkeypatch.setattr(kafka_auth, "service_grants", one_more)
    findings = "\n".join(str(f) for f in lint_examples(checkout_copy(tmp_path), manifests.KUBERNETES_VERSION))
    assert "KafkaUser/ingest: ACL missing: allow Read on topic settlement.events.dlq (literal)" in findings, findings
