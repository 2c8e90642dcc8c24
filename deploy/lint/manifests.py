"""Schema validation of rendered Kubernetes objects.

Built-in kinds go to kubernetes-validate (strict: unknown fields fail) for one Kubernetes
version. Custom kinds go to check-jsonschema with the vendored CRD's schema. A kind neither
knows is an error, not the warning kubernetes-validate would print.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from deploy.lint import crd_schemas
from deploy.lint.findings import Finding

KUBERNETES_VERSION = "1.37.0"


def _name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def check_jsonschema(schema: dict[str, Any], docs: list[dict[str, Any]], where: str) -> list[Finding]:
    """Validate docs against one schema with the check-jsonschema CLI."""
    with tempfile.TemporaryDirectory(prefix="lint-deploy-") as tmp:
        schema_file = Path(tmp) / "schema.json"
        schema_file.write_text(json.dumps(schema))
        files = []
        for index, doc in enumerate(docs):
            path = Path(tmp) / f"{index:03d}-{doc['kind']}-{doc['metadata']['name']}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(str(path))
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "check-jsonschema"),
                "--regex-variant",
                "python",
                "--schemafile",
                str(schema_file),
                *files,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    if result.returncode == 0:
        return []
    return [Finding(where, f"check-jsonschema: {(result.stdout + result.stderr).strip()}")]


def validate(docs: list[dict[str, Any]], where: str, version: str = KUBERNETES_VERSION) -> list[Finding]:
    """Every object validated against its schema; unknown kinds are findings."""
    custom = crd_schemas.load()
    findings: list[Finding] = []
    by_custom_kind: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        key = (str(doc.get("apiVersion")), str(doc.get("kind")))
        if key in custom:
            by_custom_kind[key].append(doc)
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as exc:
            findings.append(
                Finding(
                    f"{where}: {_name(doc)}",
                    f"no schema: {exc.message}; vendor its CRD under deploy/lint/crds/ (see SOURCES.md)",
                )
            )
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path)
            findings.append(Finding(f"{where}: {_name(doc)}", f"Kubernetes {version} schema: {path}: {exc.message}"))
    for (api_version, kind), members in sorted(by_custom_kind.items()):
        findings += check_jsonschema(custom[(api_version, kind)].schema, members, f"{where}: {kind} ({api_version})")
    return findings
