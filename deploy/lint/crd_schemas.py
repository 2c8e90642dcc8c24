"""Vendored CRDs (crds/, provenance in crds/SOURCES.md) turned into strict JSON Schemas.

A CRD's openAPIV3Schema is OpenAPI 3.0 with Kubernetes extensions; the API server prunes
unknown fields, which would let a misspelt key pass unnoticed, so objects that declare their
properties get `additionalProperties: false` unless the CRD preserves unknown fields.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from deploy.lint.findings import Finding

# The CRDs are large (the Strimzi Kafka one is over 300 kB): use libyaml where present.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CRD_DIR = Path(__file__).resolve().parent / "crds"
_LATE_FLAGS = re.compile(r"^\^\(\?([a-z]+)\)")
_SOURCE_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| (?P<sha>[0-9a-f]{64}) \|$")


@dataclass(frozen=True, slots=True)
class CustomKind:
    api_version: str
    kind: str
    schema: dict[str, Any]
    source: Path


def _python_regex(pattern: str) -> str:
    """CRD patterns are Go RE2, which allows a flag group after `^`; Python wants it first."""
    return _LATE_FLAGS.sub(r"(?\1)^", pattern)


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if isinstance(out.get("pattern"), str):
        out["pattern"] = _python_regex(out["pattern"])
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    for key in [k for k in out if k.startswith("x-kubernetes-")]:
        del out[key]
    return out


def to_json_schema(crd: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    group = crd["spec"]["group"]
    schema = _strict(version["schema"]["openAPIV3Schema"])
    properties = dict(schema.get("properties", {}))
    properties["apiVersion"] = {"const": f"{group}/{version['name']}"}
    properties["kind"] = {"const": crd["spec"]["names"]["kind"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "properties": properties,
        "required": sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"}),
    }


@functools.cache
def load(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], CustomKind]:
    """Every served version of every vendored CRD, by (apiVersion, kind); parsed once."""
    kinds: dict[tuple[str, str], CustomKind] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=_LOADER):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            for version in crd["spec"]["versions"]:
                if not version.get("served", True):
                    continue
                api_version = f"{crd['spec']['group']}/{version['name']}"
                kind = crd["spec"]["names"]["kind"]
                kinds[(api_version, kind)] = CustomKind(api_version, kind, to_json_schema(crd, version), path)
    return kinds


def check_sources(crd_dir: Path = CRD_DIR) -> list[Finding]:
    """Each vendored file is listed in SOURCES.md with the sha256 it still has."""
    listed: dict[str, str] = {}
    sources = crd_dir / "SOURCES.md"
    for line in sources.read_text().splitlines():
        if match := _SOURCE_ROW.match(line):
            listed[match["file"]] = match["sha"]
    findings: list[Finding] = []
    for path in sorted(crd_dir.glob("*.yaml")):
        expected = listed.get(path.name)
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if expected is None:
            findings.append(Finding(str(path), "vendored CRD not listed in SOURCES.md (source, version, sha256)"))
        elif expected != actual:
            findings.append(
                Finding(str(path), f"sha256 {actual} differs from SOURCES.md ({expected}): edited locally?")
            )
    return findings
