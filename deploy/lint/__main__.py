"""`python -m deploy.lint [--only chart|compose] [--root DIR] [--values FILE ...]`.

Exit status 0 when every check passes, 1 when any finding is printed, 2 when a tool is
missing (helm could not be built).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml
from deploy.lint import chart_policy, chart_security, compose, crd_schemas, manifests
from deploy.lint.examples import EXAMPLES, lint_examples
from deploy.lint.findings import Finding
from deploy.lint.helm import Helm, HelmUnavailable, ensure_helm

ROOT = Path(__file__).resolve().parents[2]
CHART = Path("deploy/helm/settlement-tracker")
REQUIRED_CI_VALUES = {"minimal-values.yaml", "ha-keda-values.yaml", "all-values.yaml"}
# Over all CI renders together, each of these must appear: a values file that silently stops
# enabling a toggle would otherwise leave that kind unvalidated.
REQUIRED_KINDS = {
    "Deployment": 3,
    "Service": 3,
    "PodDisruptionBudget": 3,
    "HorizontalPodAutoscaler": 1,
    "ScaledObject": 1,
    "ServiceMonitor": 1,
    "PrometheusRule": 1,
    "Job": 1,
    "NetworkPolicy": 15,
    "Ingress": 1,
}


def _yamllint(root: Path) -> list[Finding]:
    chart = root / CHART
    targets = [p for p in [*chart.glob("*.yaml"), *chart.glob("ci/*.yaml"), *(root / EXAMPLES).glob("*.yaml")]]
    targets.append(root / "docker-compose.yml")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "yamllint"), "--strict", "-f", "parsable",
         "-c", str(Path(__file__).with_name("yamllint.yml")), *map(str, targets)],
        capture_output=True, text=True, check=False, timeout=120, cwd=root,
    )  # fmt: skip
    return [Finding("yamllint", line) for line in result.stdout.splitlines() if line.strip()] or (
        [Finding("yamllint", result.stderr.strip())] if result.returncode else []
    )


def _symlink_findings(root: Path) -> list[Finding]:
    """files/ must link to the real sources, so the chart can never carry a stale copy."""
    findings: list[Finding] = []
    files = root / CHART / "files"
    for link, target in (
        (files / "settlement.rules.yml", root / "deploy/prometheus/settlement.rules.yml"),
        (files / "dashboards", root / "deploy/grafana/dashboards"),
    ):
        if not link.is_symlink() or link.resolve() != target.resolve():
            findings.append(Finding(str(link), f"must be a symlink to {target.relative_to(root)}, not a copy"))
    return findings


def readiness_paths(root: Path) -> dict[str, str]:
    values = yaml.safe_load((root / CHART / "values.yaml").read_text())
    return {c: str(values[c]["readinessPath"]) for c in ("ingest", "aggregate", "api")}


def lint_chart(root: Path, helm: Helm, values_files: list[Path], *, coverage: bool = True) -> list[Finding]:
    """The chart for each values file; `coverage`: the files together render every REQUIRED_KINDS."""
    chart = root / CHART
    findings = crd_schemas.check_sources() + _symlink_findings(root) + _yamllint(root)
    present = {p.name for p in (chart / "ci").glob("*-values.yaml")}
    if missing := REQUIRED_CI_VALUES - present:
        findings.append(Finding(str(chart / "ci"), f"missing CI values files: {sorted(missing)}"))
    repo = chart_policy.Repo(root)
    kinds: Counter[str] = Counter()
    for values in values_files:
        findings += helm.lint(chart, values)
        docs, render_findings = helm.template(chart, values)
        findings += render_findings
        findings += manifests.validate(docs, values.name, helm.kube_version)
        findings += [Finding(f"{values.name}: {f.where}", f.message) for f in chart_policy.check(docs, repo)]
        findings += [Finding(f"{values.name}: {f.where}", f.message) for f in chart_security.check(docs)]
        kinds.update(doc["kind"] for doc in docs)
        print(f"  {values.relative_to(root) if values.is_relative_to(root) else values}: {len(docs)} objects rendered")
    for kind, least in REQUIRED_KINDS.items() if coverage else ():
        if kinds[kind] < least:
            findings.append(
                Finding("ci values", f"{kind} rendered {kinds[kind]} times over all CI values, want >= {least}")
            )
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.lint", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to lint (default: this one)")
    parser.add_argument("--only", choices=["chart", "compose"], help="run one half only")
    parser.add_argument(
        "--values", type=Path, action="append", help="values file (default: the chart's ci/*-values.yaml)"
    )
    parser.add_argument(
        "--helm", type=Path, help="helm binary (default: built or reused by deploy/lint/ensure-helm.sh)"
    )
    parser.add_argument("--kube-version", default=manifests.KUBERNETES_VERSION)
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    findings: list[Finding] = []
    if args.only in (None, "chart"):
        try:
            binary = args.helm or ensure_helm()
        except HelmUnavailable as exc:
            print(f"lint-deploy: {exc}", file=sys.stderr)
            return 2
        values = args.values or sorted((root / CHART / "ci").glob("*-values.yaml"))
        print(f"chart {CHART} (helm {binary}, Kubernetes {args.kube_version}):")
        findings += lint_chart(root, Helm(binary, args.kube_version), values, coverage=args.values is None)
        print("examples:")
        findings += lint_examples(root, args.kube_version)
    if args.only in (None, "compose"):
        print("docker-compose.yml:")
        findings += compose.check(root / "docker-compose.yml", readiness_paths(root))
    for finding in findings:
        print(f"FAIL {finding}")
    print(f"lint-deploy: {len(findings)} finding(s)" if findings else "lint-deploy: all checks passed")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
