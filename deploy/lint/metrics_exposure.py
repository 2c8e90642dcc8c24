"""Per-bank metrics reach Prometheus and nobody else.

The API's public /metrics is market-wide; per-bank series are on GET /metrics/banks behind a
scrape token (`Authorization: Bearer`). So:
- no Ingress routes /metrics or /metrics/banks (a `/` Prefix or a default backend would);
- whoever scrapes /metrics/banks presents the token from a Secret or a secret file, never a
  literal in the config, and the per-bank series are scraped at all (the silent-bank alert
  depends on them);
- Prometheus runs without the lifecycle and admin APIs (anyone reaching the port could stop
  it or delete series).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.lint.findings import Finding

METRICS_PATHS = ("/metrics", "/metrics/banks")
BANKS_PATH = "/metrics/banks"
FORBIDDEN_PROMETHEUS_FLAGS = ("--web.enable-lifecycle", "--web.enable-admin-api")


def _routes_to(path: str, path_type: str, target: str) -> bool:
    """Whether an Ingress path of this type would match a request for `target`."""
    if path_type == "Exact":
        return path == target
    # Prefix matches whole path elements; ImplementationSpecific may be a plain string prefix
    # or a regex (ingress-nginx), so it is read the widest way.
    if path_type == "Prefix":
        prefix = path.rstrip("/")
        return prefix == "" or target == prefix or target.startswith(prefix + "/")
    return target.startswith(path.split("(")[0].rstrip("$")) or path in ("", "/")


def ingress_findings(docs: list[dict[str, Any]]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        if doc["kind"] != "Ingress":
            continue
        at = f"Ingress/{doc['metadata']['name']}"
        if doc["spec"].get("defaultBackend"):
            findings.append(Finding(at, "has a defaultBackend: every path, /metrics included, is routed"))
        for rule in doc["spec"].get("rules", []):
            for entry in (rule.get("http") or {}).get("paths", []):
                path, path_type = str(entry.get("path", "/")), str(entry.get("pathType", "ImplementationSpecific"))
                for target in METRICS_PATHS:
                    if _routes_to(path, path_type, target):
                        findings.append(Finding(at, f"path {path} ({path_type}) routes {target} to the Internet"))
    return findings


def service_monitor_findings(docs: list[dict[str, Any]]) -> list[Finding]:
    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    findings: list[Finding] = []
    banks = 0
    for doc in monitors:
        at = f"ServiceMonitor/{doc['metadata']['name']}"
        for endpoint in doc["spec"].get("endpoints", []):
            if endpoint.get("path") != BANKS_PATH:
                continue
            banks += 1
            credentials = (endpoint.get("authorization") or {}).get("credentials") or {}
            if not (credentials.get("name") and credentials.get("key")):
                findings.append(Finding(at, f"scrapes {BANKS_PATH} without authorization.credentials from a Secret"))
    if monitors and not banks:
        findings.append(Finding("chart", f"ServiceMonitors render but none scrapes {BANKS_PATH}: per-bank series lost"))
    return findings


def prometheus_flag_findings(where: str, args: list[str]) -> list[Finding]:
    return [
        Finding(where, f"Prometheus runs with {flag}: anyone reaching the port can stop it or delete data")
        for flag in FORBIDDEN_PROMETHEUS_FLAGS
        if any(a == flag or a.startswith(flag + "=") for a in args)
    ]


def scrape_config_findings(where: str, config: Mapping[str, Any], secret_files: set[str]) -> list[Finding]:
    """A Prometheus config: /metrics/banks scraped with a token file the container mounts."""
    findings: list[Finding] = []
    banks = [job for job in config.get("scrape_configs") or [] if job.get("metrics_path") == BANKS_PATH]
    if not banks:
        findings.append(Finding(where, f"no scrape job for {BANKS_PATH}: per-bank series are lost"))
    for job in banks:
        at = f"{where}: job {job.get('job_name')}"
        auth = job.get("authorization") or {}
        if "credentials" in auth or "bearer_token" in job:
            findings.append(Finding(at, "scrape token written into the config: use authorization.credentials_file"))
        elif auth.get("credentials_file") not in secret_files:
            findings.append(
                Finding(at, f"authorization.credentials_file {auth.get('credentials_file')} is no mounted secret")
            )
    return findings
