"""docker-compose.yml's security rules (docs/security/deploy.md).

- every published port is bound to loopback (127.0.0.1 or ::1, or a `${VAR:-127.0.0.1}`
  default), never to all interfaces;
- the Kafka broker (apache/kafka image) authenticates every listener and authorises by ACL,
  read from the server.properties it mounts plus its KAFKA_* environment (kafka_auth);
- every Kafka client service uses SASL/SCRAM as its own principal; the API has no Kafka
  credentials; every credential-like variable comes from `${...}` interpolation;
- ingest and settlementctl have SECRETS_ENCRYPTION_KEY, the api and aggregate do not
  (secrets_key);
- Prometheus has no lifecycle or admin API and scrapes /metrics/banks with a token file
  from a compose secret (metrics_exposure);
- Redis has maxmemory with noeviction (redis_memory).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from deploy.lint import kafka_auth, metrics_exposure, redis_memory, secrets_key, settings_env
from deploy.lint.findings import Finding

LOOPBACK = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})
_CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)", re.IGNORECASE)
_DEFAULTED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>[^}]*)\}")
KAFKA_IMAGE = "apache/kafka"
PROMETHEUS_IMAGE = "prom/prometheus"
# Where the apache/kafka image and Prometheus read their configuration.
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"


def _host_ip(entry: Any) -> str | None:
    """The host address a `ports` entry binds, None when it binds all interfaces."""
    if isinstance(entry, dict):
        return str(entry["host_ip"]) if entry.get("host_ip") else None
    text = str(entry)
    if match := _DEFAULTED.match(text):
        rest = text[match.end() :]
        return match["default"] if rest.startswith(":") else None
    if text.startswith("["):  # [::1]:8001:8001
        return text[: text.index("]") + 1]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None


def port_findings(where: str, service: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    if service.get("network_mode") == "host":
        findings.append(Finding(where, "network_mode: host publishes every port on every interface"))
    for entry in service.get("ports", []):
        host = _host_ip(entry)
        if host not in LOOPBACK:
            findings.append(
                Finding(where, f"port {entry} binds {host or 'all interfaces'}: bind it to 127.0.0.1 (BIND_ADDRESS)")
            )
    return findings


def _args(service: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key in ("entrypoint", "command"):
        value = service.get(key)
        args += value.split() if isinstance(value, str) else [str(v) for v in value or []]
    return args


def _bind_sources(service: dict[str, Any], base: Path) -> dict[str, Path]:
    """Container path -> host path of each bind mount."""
    mounts: dict[str, Path] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            source, target = volume.get("source"), volume.get("target")
        else:
            parts = str(volume).split(":")
            source, target = (parts[0], parts[1]) if len(parts) >= 2 else (None, None)
        if source and target and str(source).startswith((".", "/")):
            mounts[str(target)] = base / str(source)
    return mounts


def _kafka_env_properties(env: dict[str, str]) -> dict[str, str]:
    """The apache/kafka image's KAFKA_* convention: KAFKA_A_B -> a.b, __ -> _, ___ -> -."""
    props: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith("KAFKA_") and key not in {"KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_JMX_OPTS"}:
            name = key.removeprefix("KAFKA_").lower().replace("_", ".").replace("...", "-").replace("..", "_")
            props[name] = value
    return props


def _service_env(service: dict[str, Any]) -> dict[str, str]:
    declared = service.get("environment", {})
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) if "=" in item else (item, "") for item in declared)
    return {str(k): "" if v is None else str(v) for k, v in declared.items()}


def broker_findings(where: str, service: dict[str, Any], base: Path) -> list[Finding]:
    props: dict[str, str] = {}
    for source in _bind_sources(service, base).values():
        file = source / "server.properties" if source.is_dir() else source
        if file.name == "server.properties" and file.is_file():
            props |= kafka_auth.parse_properties(file.read_text())
    props |= _kafka_env_properties(_service_env(service))
    if not props:
        return [Finding(where, "Kafka broker configuration not found (no server.properties mount, no KAFKA_* env)")]
    return kafka_auth.broker_findings(where, props)


def _secret_files(service: dict[str, Any]) -> set[str]:
    files: set[str] = set()
    for secret in service.get("secrets", []):
        if isinstance(secret, dict):
            files.add(str(secret.get("target") or f"/run/secrets/{secret['source']}"))
        else:
            files.add(f"/run/secrets/{secret}")
    return {f if f.startswith("/") else f"/run/secrets/{f}" for f in files}


def prometheus_findings(where: str, service: dict[str, Any], base: Path) -> list[Finding]:
    findings = metrics_exposure.prometheus_flag_findings(where, _args(service))
    config = _bind_sources(service, base).get(PROMETHEUS_CONFIG)
    if config is None or not config.is_file():
        return [*findings, Finding(where, f"no {PROMETHEUS_CONFIG} bind mount to check the scrape jobs in")]
    loaded = yaml.safe_load(config.read_text()) or {}
    return findings + metrics_exposure.scrape_config_findings(where, loaded, _secret_files(service))


def check(path: Path, commands: dict[str, list[str]]) -> list[Finding]:
    """`commands`: service name -> its command (compose.py resolves the image's CMD)."""
    base = path.parent
    top = yaml.safe_load(path.read_text()) or {}
    findings: list[Finding] = []
    brokers = 0
    for name, service in (top.get("services") or {}).items():
        where = f"{path.name}: services.{name}"
        image = str(service.get("image", ""))
        findings += port_findings(where, service)
        env = _service_env(service)
        for key, value in env.items():
            if _CREDENTIAL_NAME.search(key) and "${" not in value:
                findings.append(Finding(where, f"{key} must come from ${{...}} interpolation, not a literal"))
        # A broker is the long-running, health-checked kafka service; one-shot tool
        # containers of the same image (kafka-acls) are not.
        if image.split(":", 1)[0] == KAFKA_IMAGE and "healthcheck" in service:
            brokers += 1
            findings += broker_findings(where, service, base)
        if image.split(":", 1)[0] == PROMETHEUS_IMAGE:
            findings += prometheus_findings(where, service, base)
        if redis_memory.is_redis_image(image):
            findings += redis_memory.args_findings(where, _args(service))
        package = settings_env.entrypoint_package(commands.get(name, []))
        if package is not None:
            findings += kafka_auth.client_findings(where, package, dict(env))
            findings += secrets_key.client_findings(where, package, dict(env))
    if not brokers:
        findings.append(Finding(path.name, f"no health-checked {KAFKA_IMAGE} broker service to check"))
    return findings
