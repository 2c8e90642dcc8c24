"""The project's rules for a rendered chart, beyond what the schemas can say.

- no Secret rendered and no credential in a plain value: connection URLs (every `*_url`
  setting) come from `secretKeyRef`;
- every container runs non-root on a read-only root filesystem, every Deployment has HTTP
  readiness and liveness probes;
- every setting a service requires is in its environment, and every name set is one a
  service reads (a misspelt name would silently be ignored by pydantic-settings);
- the aggregator never has more replicas than the events topic has partitions, and at most
  one autoscaler per Deployment;
- the PrometheusRule and the dashboard ConfigMaps equal deploy/prometheus/settlement.rules.yml
  and deploy/grafana/dashboards/*.json;
- Services and PDBs select exactly one Deployment, and no PDB blocks every node drain; the
  migration hook runs `settlementctl init`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from deploy.lint import settings_env
from deploy.lint.findings import Finding
from deploy.lint.image_env import dockerfile_env

# Set by the runtime or the image, not settings.
NON_SETTINGS_ENV = frozenset({"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PATH"})
_CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)", re.IGNORECASE)
_CREDENTIAL_IN_URL = re.compile(r"://[^/@\s:]*:[^/@\s]+@")


@dataclass(frozen=True, slots=True)
class Repo:
    """Where the sources the chart must agree with live."""

    root: Path

    @property
    def rules_file(self) -> Path:
        return self.root / "deploy" / "prometheus" / "settlement.rules.yml"

    @property
    def dashboards_dir(self) -> Path:
        return self.root / "deploy" / "grafana" / "dashboards"

    @property
    def dockerfile(self) -> Path:
        return self.root / "Dockerfile"


def secret_settings() -> frozenset[str]:
    """Settings that carry credentials: the connection URLs (`*_url` fields) and every field
    typed SecretStr (e.g. the transparency log's TLOG_SIGNING_KEY and TLOG_SALT_KEY)."""
    classes = [c for p in settings_env.all_packages() for c in settings_env.settings_classes(p)]
    urls = {name for name in settings_env.known_env(classes) if name.endswith("_URL")}
    return frozenset(urls | settings_env.secret_env(classes))


def _name(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        spec: dict[str, Any] = doc["spec"]["template"]["spec"]
        return spec
    return None


def _labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def credential_findings(where: str, name: str, value: object) -> list[Finding]:
    text = str(value)
    if _CREDENTIAL_NAME.search(name) or _CREDENTIAL_IN_URL.search(text):
        return [Finding(where, f"{name} looks like a credential in a plain value: take it from a Secret")]
    return []


def env_name_findings(where: str, names: Iterable[str], known: set[str]) -> list[Finding]:
    return [
        Finding(where, f"{name} is not a setting any service reads (misspelt?)")
        for name in sorted(set(names))
        if name not in known and name not in NON_SETTINGS_ENV
    ]


def required_findings(where: str, package: str, names: set[str]) -> list[Finding]:
    required = settings_env.required_env(settings_env.settings_classes(package))
    return [
        Finding(where, f"{' or '.join(sorted(choice))} is required by {package} settings and not set")
        for choice in sorted(required, key=sorted)
        if not choice & names
    ]


def _container_env(
    container: dict[str, Any], config_maps: dict[str, dict[str, str]], where: str, secrets: frozenset[str]
) -> tuple[set[str], list[Finding]]:
    names: set[str] = set()
    findings: list[Finding] = []
    for entry in container.get("env", []):
        names.add(entry["name"])
        if "value" in entry:
            findings += credential_findings(where, entry["name"], entry["value"])
            if entry["name"] in secrets:
                findings.append(Finding(where, f"{entry['name']} is a credential: use valueFrom.secretKeyRef"))
        elif entry["name"] in secrets and "secretKeyRef" not in entry.get("valueFrom", {}):
            findings.append(Finding(where, f"{entry['name']} must come from valueFrom.secretKeyRef"))
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]["name"]
            if ref not in config_maps:
                findings.append(Finding(where, f"envFrom ConfigMap {ref} is not rendered by the chart"))
            names |= set(config_maps.get(ref, {}))
        else:
            findings.append(Finding(where, "envFrom other than a ConfigMap cannot be checked: list the keys in env"))
    return names, findings


def _workload_findings(
    doc: dict[str, Any], config_maps: dict[str, dict[str, str]], repo: Repo, known: set[str]
) -> list[Finding]:
    pod = _pod_spec(doc)
    if pod is None:
        return []
    where = _name(doc)
    findings: list[Finding] = []
    secrets = secret_settings()
    image_env = set(dockerfile_env(repo.dockerfile))
    pod_non_root = pod.get("securityContext", {}).get("runAsNonRoot") is True
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        at = f"{where} container {container['name']}"
        context = container.get("securityContext", {})
        if not (context.get("runAsNonRoot") is True or pod_non_root):
            findings.append(Finding(at, "runAsNonRoot is not true"))
        if context.get("readOnlyRootFilesystem") is not True:
            findings.append(Finding(at, "readOnlyRootFilesystem is not true"))
        names, env_findings = _container_env(container, config_maps, at, secrets)
        findings += env_findings
        package = settings_env.entrypoint_package(container.get("command", []))
        if package is None:
            findings.append(Finding(at, f"command {container.get('command')} is none of the project's entry points"))
            continue
        findings += required_findings(at, package, names | image_env)
        findings += env_name_findings(at, names, known)
        if doc["kind"] == "Deployment" and package in settings_env.SERVICE_PACKAGES:  # the others have no port
            for probe in ("readinessProbe", "livenessProbe"):
                if "httpGet" not in container.get(probe, {}):
                    findings.append(Finding(at, f"{probe} is not an HTTP probe"))
            if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                findings.append(Finding(at, "livenessProbe is not /healthz"))
    return findings


def _autoscaler_target(doc: dict[str, Any]) -> tuple[str, int] | None:
    if doc["kind"] == "HorizontalPodAutoscaler":
        return doc["spec"]["scaleTargetRef"]["name"], int(doc["spec"]["maxReplicas"])
    if doc["kind"] == "ScaledObject":
        return doc["spec"]["scaleTargetRef"]["name"], int(doc["spec"].get("maxReplicaCount", 100))
    return None


def _aggregate_findings(docs: list[dict[str, Any]], config_maps: dict[str, dict[str, str]]) -> list[Finding]:
    findings: list[Finding] = []
    scalers: dict[str, list[tuple[str, int]]] = {}
    for doc in docs:
        if (scaled := _autoscaler_target(doc)) is not None:
            scalers.setdefault(scaled[0], []).append((_name(doc), scaled[1]))
    for deployment, owners in scalers.items():
        if len(owners) > 1:
            findings.append(Finding(f"Deployment/{deployment}", f"several autoscalers: {[o for o, _ in owners]}"))
    partitions = {int(data["EVENTS_PARTITIONS"]) for data in config_maps.values() if "EVENTS_PARTITIONS" in data}
    aggregators = [
        d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "aggregate"
    ]
    if len(aggregators) != 1 or len(partitions) != 1:
        return [*findings, Finding("chart", "expected one aggregate Deployment and one EVENTS_PARTITIONS")]
    (bound,) = partitions
    agg = aggregators[0]
    name = agg["metadata"]["name"]
    if int(agg["spec"].get("replicas", 1)) > bound:
        findings.append(Finding(_name(agg), f"replicas {agg['spec']['replicas']} > {bound} partitions"))
    for owner, maximum in scalers.get(name, []):
        if maximum > bound:
            findings.append(Finding(owner, f"max replicas {maximum} > {bound} partitions of the events topic"))
    if name in scalers and "replicas" in agg["spec"]:
        findings.append(Finding(_name(agg), "sets replicas although an autoscaler owns them"))
    return findings


def _budget_findings(pdb: dict[str, Any], deployment: dict[str, Any], docs: list[dict[str, Any]]) -> list[Finding]:
    """A PDB that allows no eviction at the workload's smallest size blocks every node drain."""
    least = deployment["spec"].get("replicas")
    for doc in docs:
        if (
            doc["kind"] == "HorizontalPodAutoscaler"
            and doc["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
        ):
            least = doc["spec"].get("minReplicas", 1)
        if doc["kind"] == "ScaledObject" and doc["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]:
            least = doc["spec"].get("minReplicaCount", 0)
    min_available = pdb["spec"].get("minAvailable")
    if isinstance(min_available, int) and least is not None and min_available >= int(least):
        return [Finding(_name(pdb), f"minAvailable {min_available} with {least} replicas blocks every node drain")]
    if pdb["spec"].get("maxUnavailable") in (0, "0%"):
        return [Finding(_name(pdb), "maxUnavailable 0 blocks every node drain")]
    return []


def _selector_findings(docs: list[dict[str, Any]]) -> list[Finding]:
    pods = [(d, d["spec"]["template"]["metadata"]["labels"]) for d in docs if d["kind"] == "Deployment"]
    findings: list[Finding] = []
    for doc in docs:
        if doc["kind"] == "Service":
            selector = doc["spec"]["selector"]
        elif doc["kind"] == "PodDisruptionBudget":
            selector = doc["spec"]["selector"]["matchLabels"]
        else:
            continue
        matched = [d for d, labels in pods if _labels_match(selector, labels)]
        if len(matched) != 1:
            findings.append(Finding(_name(doc), f"selects {len(matched)} Deployments, expected exactly one"))
        elif doc["kind"] == "PodDisruptionBudget":
            findings += _budget_findings(doc, matched[0], docs)
        elif doc["kind"] == "Service":
            ports = {p.get("name") for c in matched[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
            for port in doc["spec"]["ports"]:
                if port["targetPort"] not in ports:
                    findings.append(Finding(_name(doc), f"targetPort {port['targetPort']} is no container port"))
    return findings


def _monitoring_findings(docs: list[dict[str, Any]], repo: Repo) -> list[Finding]:
    findings: list[Finding] = []
    expected_groups = yaml.safe_load(repo.rules_file.read_text())["groups"]
    for doc in docs:
        if doc["kind"] == "PrometheusRule" and doc["spec"]["groups"] != expected_groups:
            findings.append(Finding(_name(doc), f"groups differ from {repo.rules_file}"))
    dashboards = {
        key: value
        for doc in docs
        if doc["kind"] == "ConfigMap"
        for key, value in doc.get("data", {}).items()
        if key.endswith(".json")
    }
    if dashboards:
        files = {p.name: p for p in repo.dashboards_dir.glob("*.json")}
        if set(dashboards) != set(files):
            findings.append(
                Finding("dashboards", f"ConfigMaps hold {sorted(dashboards)}, {repo.dashboards_dir} {sorted(files)}")
            )
        for key in set(dashboards) & set(files):
            if json.loads(dashboards[key]) != json.loads(files[key].read_text()):
                findings.append(Finding(f"dashboard {key}", f"differs from {files[key]}"))
    return findings


def _migration_findings(docs: list[dict[str, Any]]) -> list[Finding]:
    jobs = [d for d in docs if d["kind"] == "Job"]
    for job in jobs:
        hooks = set(job["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(","))
        commands = [c.get("command") for c in job["spec"]["template"]["spec"]["containers"]]
        if {"pre-install", "pre-upgrade"} <= hooks and ["settlementctl", "init"] in commands:
            return []
    return [Finding("chart", "no pre-install,pre-upgrade hook Job running settlementctl init")]


def check(docs: list[dict[str, Any]], repo: Repo, *, migration: bool = True) -> list[Finding]:
    """Every policy above over one render."""
    findings: list[Finding] = []
    classes = [c for p in settings_env.all_packages() for c in settings_env.settings_classes(p)]
    known = settings_env.known_env(classes)
    config_maps: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc["kind"] == "Secret":
            findings.append(Finding(_name(doc), "the chart renders a Secret: secrets come from secrets.existingSecret"))
        if doc["kind"] == "ConfigMap":
            data = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
            config_maps[doc["metadata"]["name"]] = data
            for key, value in data.items():
                if not key.endswith(".json"):
                    findings += credential_findings(_name(doc), key, value)
    for doc in docs:
        findings += _workload_findings(doc, config_maps, repo, known)
    findings += _aggregate_findings(docs, config_maps)
    findings += _selector_findings(docs)
    findings += _monitoring_findings(docs, repo)
    if migration:
        findings += _migration_findings(docs)
    return findings
