"""The operator manifests under deploy/helm/examples/ (applied by docs/deploy-kubernetes.md)."""

from __future__ import annotations

from pathlib import Path

import yaml
from deploy.lint import manifests
from deploy.lint.findings import Finding

CHART_VALUES = Path("deploy/helm/settlement-tracker/values.yaml")
EXAMPLES = Path("deploy/helm/examples")


def lint_examples(root: Path, kube_version: str) -> list[Finding]:
    """The operator manifests docs/deploy-kubernetes.md applies, against their CRDs, and the
    events topic they create with the partition count the chart assumes."""
    findings: list[Finding] = []
    values = yaml.safe_load((root / CHART_VALUES).read_text())
    topics: dict[str, int] = {}
    for path in sorted((root / EXAMPLES).glob("*.yaml")):
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        findings += manifests.validate(docs, path.name, kube_version)
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
