"""The operator manifests under deploy/helm/examples/ (applied by docs/deploy-kubernetes.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from deploy.lint import kafka_auth, manifests, redis_memory
from deploy.lint.findings import Finding

CHART_VALUES = Path("deploy/helm/settlement-tracker/values.yaml")
EXAMPLES = Path("deploy/helm/examples")


def lint_examples(root: Path, kube_version: str) -> list[Finding]:
    """The operator manifests docs/deploy-kubernetes.md applies, against their CRDs, and the
    events topic they create with the partition count the chart assumes; Kafka with
    authentication and exactly the specified ACLs, Redis bounded without eviction."""
    findings: list[Finding] = []
    values = yaml.safe_load((root / CHART_VALUES).read_text())
    topics: dict[str, int] = {}
    expected = kafka_auth.expected_acls(
        values["kafka"]["eventsTopic"], values["kafka"]["dlqTopic"], values["kafka"]["consumerGroup"]
    )
    for path in sorted((root / EXAMPLES).glob("*.yaml")):
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        findings += manifests.validate(docs, path.name, kube_version)
        findings += _security_findings(path.name, docs, expected)
        topics |= {d["metadata"]["name"]: int(d["spec"]["partitions"]) for d in docs if d["kind"] == "KafkaTopic"}
        print(f"  {EXAMPLES / path.name}: {len(docs)} objects")
    for topic, default in (
        (values["kafka"]["eventsTopic"], values["kafka"]["partitions"]),
        (values["kafka"]["dlqTopic"], 1),
    ):
        if topics.get(topic) != default:
            findings.append(
                Finding(str(EXAMPLES), f"KafkaTopic {topic} has {topics.get(topic)} partitions, the chart {default}")
            )
    return findings


def _security_findings(
    where: str, docs: list[dict[str, Any]], expected: dict[str, frozenset[kafka_auth.Acl]]
) -> list[Finding]:
    findings: list[Finding] = []
    clusters = [d for d in docs if d["kind"] == "Kafka"]
    for kafka in clusters:
        findings += kafka_auth.strimzi_kafka_findings(where, kafka)
    if clusters:
        findings += kafka_auth.kafka_user_findings(where, [d for d in docs if d["kind"] == "KafkaUser"], expected)
    for doc in docs:
        if doc["kind"] not in {"StatefulSet", "Deployment"}:
            continue
        for container in doc["spec"]["template"]["spec"].get("containers", []):
            if redis_memory.is_redis_image(str(container.get("image", ""))):
                at = f"{where}: {doc['kind']}/{doc['metadata']['name']} container {container['name']}"
                findings += redis_memory.args_findings(at, [*container.get("command", []), *container.get("args", [])])
    return findings
