"""NetworkPolicies of a chart render: deny by default, then only what each component needs.

- a default-deny policy (Ingress and Egress, no rule) selects every pod the chart runs;
- every pod is also selected by a policy of its own component;
- no rule is open-ended: an egress rule names its peers and ports, an ingress rule its
  sources and ports (an empty `to`/`from` means "anyone");
- a pod that has no Kafka credentials (the API) has no egress to Kafka.

Only `matchLabels` selectors are understood; anything else is a finding, since it could not
be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.lint.findings import Finding

POD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})
# Kafka's client ports, and the label prefix every Strimzi-managed pod carries.
KAFKA_PORTS = frozenset({9092, 9093, 9094})
STRIMZI_LABEL = "strimzi.io/"


def _name(doc: Mapping[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def _selects(policy: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    selector = policy["spec"].get("podSelector") or {}
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _is_default_deny(policy: Mapping[str, Any]) -> bool:
    spec = policy["spec"]
    both = {"Ingress", "Egress"} <= set(spec.get("policyTypes", []))
    return both and not spec.get("ingress") and not spec.get("egress")


def _has_kafka_credentials(pod: Mapping[str, Any]) -> bool:
    return any(
        entry.get("name") == "KAFKA_PASSWORD" for c in pod["spec"].get("containers", []) for entry in c.get("env", [])
    )


def _reaches_kafka(rule: Mapping[str, Any]) -> bool:
    ports = {p.get("port") for p in rule.get("ports", [])}
    labels: set[str] = set()
    for peer in rule.get("to", []):
        for selector in (peer.get("podSelector") or {}, peer.get("namespaceSelector") or {}):
            labels |= set((selector.get("matchLabels") or {}).keys())
    return bool(ports & KAFKA_PORTS) or any(label.startswith(STRIMZI_LABEL) for label in labels)


def _rule_findings(at: str, policy: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    spec = policy["spec"]
    if "matchExpressions" in (spec.get("podSelector") or {}):
        findings.append(Finding(at, "podSelector.matchExpressions cannot be checked: use matchLabels"))
    for direction, peers in (("egress", "to"), ("ingress", "from")):
        for index, rule in enumerate(spec.get(direction) or []):
            if not rule.get(peers):
                findings.append(Finding(at, f"{direction}[{index}] has no `{peers}`: it allows any peer"))
            if not rule.get("ports"):
                findings.append(Finding(at, f"{direction}[{index}] has no `ports`: it allows every port"))
    return findings


def check(docs: list[dict[str, Any]]) -> list[Finding]:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    pods = [(d, d["spec"]["template"]) for d in docs if d["kind"] in POD_KINDS]
    findings: list[Finding] = []
    if not policies:
        return [Finding("chart", "renders no NetworkPolicy: every pod accepts and opens any connection")]
    deny = [p for p in policies if _is_default_deny(p)]
    if not deny:
        findings.append(Finding("chart", "no default-deny NetworkPolicy (policyTypes Ingress and Egress, no rules)"))
    for policy in policies:
        findings += _rule_findings(_name(policy), policy)
    for workload, template in pods:
        labels = template["metadata"].get("labels", {})
        at = f"{_name(workload)} pods"
        if deny and not any(_selects(p, labels) for p in deny):
            findings.append(Finding(at, "not selected by the default-deny NetworkPolicy"))
        own = [p for p in policies if p not in deny and _selects(p, labels)]
        if not own:
            findings.append(Finding(at, "selected by no NetworkPolicy of its own component"))
        if not _has_kafka_credentials(template):
            for policy in own:
                if any(_reaches_kafka(rule) for rule in policy["spec"].get("egress") or []):
                    findings.append(Finding(at, f"{_name(policy)} lets a pod without Kafka credentials reach Kafka"))
    return findings
