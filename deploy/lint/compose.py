"""docker-compose.yml: the compose spec's schema, then what a schema cannot see.

References: every `depends_on`, named volume, network, secret and config a service names
exists; every bind-mount source exists. Environment: each of our services (recognised by
its command, or the image's CMD) has what its settings require, sets no name its settings do
not read, and keeps credentials in `${...}` interpolation. Health checks probe the same
endpoints as the chart's probes. Then the security rules of compose_security.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from deploy.lint import chart_policy, compose_security, settings_env
from deploy.lint.findings import Finding
from deploy.lint.image_env import dockerfile_cmd, dockerfile_env


def schema_findings(path: Path) -> list[Finding]:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode == 0:
        return []
    return [Finding(str(path), f"compose spec: {(result.stdout + result.stderr).strip()}")]


def _names(value: Any) -> list[str]:
    """Names from a list or a mapping (both forms compose accepts)."""
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, list):
        return [str(v["source"]) if isinstance(v, dict) else str(v) for v in value]
    return []


def _environment(service: dict[str, Any], base: Path) -> tuple[dict[str, str], list[Finding]]:
    env: dict[str, str] = {}
    findings: list[Finding] = []
    env_files = service.get("env_file", [])
    for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
        file = base / (entry["path"] if isinstance(entry, dict) else entry)
        if not file.exists():
            if not (isinstance(entry, dict) and entry.get("required") is False):
                findings.append(Finding(str(file), "env_file does not exist"))
            continue
        for line in file.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                env[key.strip()] = value
    declared = service.get("environment", {})
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) if "=" in item else (item, "") for item in declared)
    env.update({str(k): "" if v is None else str(v) for k, v in declared.items()})
    return env, findings


def _command(service: dict[str, Any], base: Path) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    if isinstance(command, list):
        return [str(c) for c in command]
    dockerfile = _dockerfile(service, base)
    return dockerfile_cmd(dockerfile) if dockerfile and dockerfile.exists() else []


def _dockerfile(service: dict[str, Any], base: Path) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        return base / build / "Dockerfile"
    return base / str(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))


def _reference_findings(name: str, service: dict[str, Any], top: dict[str, Any], base: Path) -> list[Finding]:
    where = f"services.{name}"
    findings: list[Finding] = []
    services = set(top.get("services", {}))
    for dep in _names(service.get("depends_on", [])):
        if dep not in services:
            findings.append(Finding(where, f"depends_on names a service that does not exist: {dep}"))
    extends = service.get("extends")
    if isinstance(extends, dict) and "file" not in extends and extends.get("service") not in services:
        findings.append(Finding(where, f"extends a service that does not exist: {extends.get('service')}"))
    volumes = set(top.get("volumes") or {})
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            kind, source = volume.get("type", "volume"), volume.get("source")
        else:
            source = str(volume).split(":", 1)[0] if ":" in str(volume) else None
            kind = "bind" if source and source.startswith((".", "/", "~")) else "volume"
        if source is None:
            continue  # an anonymous volume
        if kind == "volume" and source not in volumes:
            findings.append(Finding(where, f"volume {source} is not declared under top-level volumes"))
        if kind == "bind" and not source.startswith(("/", "~")) and not (base / source).exists():
            findings.append(Finding(where, f"bind mount source {source} does not exist"))
    for section in ("networks", "secrets", "configs"):
        declared = set(top.get(section) or {}) | ({"default"} if section == "networks" else set())
        for ref in _names(service.get(section, [])):
            if ref not in declared:
                findings.append(Finding(where, f"{section[:-1]} {ref} is not declared under top-level {section}"))
    return findings


def _healthcheck_findings(where: str, component: str, service: dict[str, Any], paths: dict[str, str]) -> list[Finding]:
    test = service.get("healthcheck", {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test or "")
    expected = paths.get(component)
    if expected is None:
        return [Finding(where, f"the chart has no readinessPath for {component}")]
    if expected not in text:
        return [Finding(where, f"healthcheck does not probe {expected} (the chart's readiness endpoint)")]
    return []


def reference_findings(path: Path, readiness_paths: dict[str, str]) -> list[Finding]:
    """Everything but the schema; `readiness_paths` maps component -> the chart's probe path."""
    base = path.parent
    top = yaml.safe_load(path.read_text()) or {}
    classes = [c for p in settings_env.all_packages() for c in settings_env.settings_classes(p)]
    known = settings_env.known_env(classes)
    secrets = chart_policy.secret_settings()
    findings: list[Finding] = []
    for name, service in (top.get("services") or {}).items():
        where = f"{path.name}: services.{name}"
        findings += [
            Finding(f"{path.name}: {f.where}", f.message) for f in _reference_findings(name, service, top, base)
        ]
        package = settings_env.entrypoint_package(_command(service, base))
        if package is None:
            continue
        env, env_findings = _environment(service, base)
        findings += env_findings
        dockerfile = _dockerfile(service, base)
        image_env = dockerfile_env(dockerfile) if dockerfile and dockerfile.exists() else {}
        findings += chart_policy.required_findings(where, package, set(env) | set(image_env))
        findings += chart_policy.env_name_findings(where, env, known)
        for key, value in env.items():
            if key in secrets and "${" not in value:
                findings.append(Finding(where, f"{key} must take its password from ${{...}} interpolation"))
        if package in settings_env.SERVICE_PACKAGES:
            component = package.removeprefix("settlement_")
            findings += _healthcheck_findings(where, component, service, readiness_paths)
    return findings


def check(path: Path, readiness_paths: dict[str, str]) -> list[Finding]:
    top = yaml.safe_load(path.read_text()) or {}
    commands = {name: _command(service, path.parent) for name, service in (top.get("services") or {}).items()}
    return schema_findings(path) + reference_findings(path, readiness_paths) + compose_security.check(path, commands)
