"""A thin adapter over the helm binary (built or reused by ensure-helm.sh)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from deploy.lint.findings import Finding

ENSURE_HELM = Path(__file__).resolve().parent / "ensure-helm.sh"


class HelmUnavailable(RuntimeError):
    """helm could not be found or built."""


def ensure_helm() -> Path:
    """The cached helm binary, built on first use."""
    result = subprocess.run([str(ENSURE_HELM)], capture_output=True, text=True, check=False, timeout=1800)
    if result.returncode != 0:
        raise HelmUnavailable(result.stderr.strip() or "ensure-helm.sh failed")
    return Path(result.stdout.strip().splitlines()[-1])


def _quiet(stderr: str) -> str:
    # Helm reports each symlink it follows; files/ links to deploy/ on purpose.
    return "\n".join(line for line in stderr.splitlines() if "found symbolic link in path" not in line).strip()


@dataclass(frozen=True, slots=True)
class Helm:
    binary: Path
    kube_version: str

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.binary), *args], capture_output=True, text=True, check=False, timeout=300)

    def lint(self, chart: Path, values: Path) -> list[Finding]:
        result = self._run("lint", "--strict", "--kube-version", self.kube_version, str(chart), "-f", str(values))
        if result.returncode == 0:
            return []
        return [Finding(f"{values}", f"helm lint --strict: {(result.stdout + _quiet(result.stderr)).strip()}")]

    def template(self, chart: Path, values: Path, *extra: str) -> tuple[list[dict[str, Any]], list[Finding]]:
        """Rendered objects (hooks included), or the error helm gave."""
        result = self._run(
            "template", "lint", str(chart), "--namespace", "settlement", "--kube-version", self.kube_version,
            "-f", str(values), *extra,
        )  # fmt: skip
        if result.returncode != 0:
            return [], [Finding(f"{values}", f"helm template: {_quiet(result.stderr)}")]
        try:
            docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        except yaml.YAMLError as exc:
            return [], [Finding(f"{values}", f"helm template rendered invalid YAML: {exc}")]
        return docs, []
