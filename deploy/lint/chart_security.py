"""The security rules over one chart render (docs/security/deploy.md).

NetworkPolicies (network_policy), no metrics path on an Ingress and the per-bank scrape with
a token from a Secret (metrics_exposure), and each Kafka client's SASL settings and own
principal, the API with none (kafka_auth); SECRETS_ENCRYPTION_KEY from a Secret for ingest
and the migration hook, never for the api or aggregate (secrets_key).
"""

from __future__ import annotations

from typing import Any

from deploy.lint import kafka_auth, metrics_exposure, network_policy, secrets_key, settings_env
from deploy.lint.findings import Finding

_POD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})


def container_env(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """Name -> literal value, or None for a value taken from a reference (a Secret)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps.get(source["configMapRef"]["name"], {})
    for entry in container.get("env", []):
        env[entry["name"]] = str(entry["value"]) if "value" in entry else None
    return env


def kafka_client_findings(docs: list[dict[str, Any]]) -> list[Finding]:
    config_maps = {
        d["metadata"]["name"]: {str(k): str(v) for k, v in (d.get("data") or {}).items()}
        for d in docs
        if d["kind"] == "ConfigMap"
    }
    findings: list[Finding] = []
    for doc in docs:
        if doc["kind"] not in _POD_KINDS:
            continue
        for container in doc["spec"]["template"]["spec"].get("containers", []):
            package = settings_env.entrypoint_package(container.get("command", []))
            if package is None:
                continue
            where = f"{doc['kind']}/{doc['metadata']['name']} container {container['name']}"
            env = container_env(container, config_maps)
            findings += kafka_auth.client_findings(where, package, env)
            if "KAFKA_PASSWORD" in env and env["KAFKA_PASSWORD"] is not None:
                findings.append(Finding(where, "KAFKA_PASSWORD is a literal: take it from a Secret"))
            findings += secrets_key.client_findings(where, package, env)
            findings += secrets_key.reference_findings(where, env)
    return findings


def check(docs: list[dict[str, Any]]) -> list[Finding]:
    return (
        network_policy.check(docs)
        + metrics_exposure.ingress_findings(docs)
        + metrics_exposure.service_monitor_findings(docs)
        + kafka_client_findings(docs)
    )
