"""`make lint-deploy` (python -m deploy.lint): it passes on the repository and fails on each
kind of planted error, and the HA render has what the issue asks for.

The chart tests need helm; deploy/lint/ensure-helm.sh reuses the cached build or builds it
(minutes, once). Nothing here needs a cluster, Docker or the local stack.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deploy.lint import chart_policy, compose, crd_schemas, manifests, settings_env
from deploy.lint.examples import lint_examples
from deploy.lint.helm import Helm, ensure_helm

from settlement_aggregate.health import Readiness, serve
from settlement_api.app import create_app as api_app
from settlement_api.settings import ApiSettings
from settlement_ingest.app import create_app as ingest_app
from settlement_ingest.settings import IngestSettings
from tests.conftest import ROOT

CHART = ROOT / "deploy" / "helm" / "settlement-tracker"
CI_VALUES = CHART / "ci"
COMPOSE = ROOT / "docker-compose.yml"
RULES = ROOT / "deploy" / "prometheus" / "settlement.rules.yml"


def run_lint(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.lint", "--root", str(root), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def checkout_copy(tmp_path: Path) -> Path:
    """What the lint reads, copied with the chart's symlinks kept as symlinks."""
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "deploy", root / "deploy", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm(ensure_helm(), manifests.KUBERNETES_VERSION)


def render(helm: Helm, values: Path, *extra: str) -> list[dict[str, Any]]:
    docs, findings = helm.template(CHART, values, *extra)
    assert not findings, [str(f) for f in findings]
    return docs


# --- the whole lint on the repository -------------------------------------------------------


def test_lint_deploy_passes_on_the_repository() -> None:
    result = run_lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout
    for name in ("minimal-values.yaml", "ha-keda-values.yaml", "all-values.yaml"):
        assert name in result.stdout  # every CI values file was rendered


# --- docker-compose.yml ----------------------------------------------------------------------


def _rename_key(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


COMPOSE_PLANTS = [
    pytest.param(
        _rename_key(
            "    environment:\n      <<: *service-env\n      API_HOST",
            "    enviroment:\n      <<: *service-env\n      API_HOST",
        ),
        "enviroment",
        id="misspelt-key",
    ),
    pytest.param(
        _rename_key("depends_on: {init: {condition: service_completed_successfully}}", "depends_on: [initialise]"),
        "depends_on names a service that does not exist: initialise",
        id="depends-on-missing-service",
    ),
    pytest.param(
        _rename_key("volumes: [redis-data:/data]", "volumes: [redis-state:/data]"),
        "volume redis-state is not declared",
        id="undeclared-volume",
    ),
    pytest.param(
        _rename_key("./deploy/prometheus/settlement.rules.yml:", "./deploy/prometheus/settlement-rules.yml:"),
        "bind mount source ./deploy/prometheus/settlement-rules.yml does not exist",
        id="missing-bind-source",
    ),
    pytest.param(
        _rename_key("  KAFKA_BOOTSTRAP: kafka:9092\n", ""),
        "KAFKA_BOOTSTRAP is required by settlement_ingest settings and not set",
        id="missing-required-setting",
    ),
    pytest.param(
        _rename_key(
            "  KAFKA_BOOTSTRAP: kafka:9092\n", "  KAFKA_BOOTSTRAP: kafka:9092\n  KAFKA_BOOTSTRAP_SERVERS: kafka:9092\n"
        ),
        "KAFKA_BOOTSTRAP_SERVERS is not a setting any service reads",
        id="misspelt-env-name",
    ),
    pytest.param(
        _rename_key("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@postgres", "hunter2@postgres"),
        "DATABASE_URL must take its password from ${...} interpolation",
        id="plain-password",
    ),
    pytest.param(
        _rename_key("http://127.0.0.1:8003/readyz", "http://127.0.0.1:8003/"),
        "services.aggregate: healthcheck does not probe /readyz",
        id="healthcheck-endpoint",
    ),
]


def _planted_compose(tmp_path: Path, plant: Callable[[str], str]) -> Path:
    root = checkout_copy(tmp_path)
    original = COMPOSE.read_text()
    planted = plant(original)
    assert planted != original, "the plant did not change the file: update the test to the compose file"
    (root / "docker-compose.yml").write_text(planted)
    return root


@pytest.mark.parametrize(("plant", "expected"), COMPOSE_PLANTS[:2])
def test_lint_deploy_exits_non_zero_on_a_planted_compose_error(
    tmp_path: Path, plant: Callable[[str], str], expected: str
) -> None:
    result = run_lint("--only", "compose", root=_planted_compose(tmp_path, plant))
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout


@pytest.mark.parametrize(("plant", "expected"), COMPOSE_PLANTS)
def test_compose_check_finds_planted_error(tmp_path: Path, plant: Callable[[str], str], expected: str) -> None:
    root = _planted_compose(tmp_path, plant)
    findings = compose.check(root / "docker-compose.yml", _probe_paths())
    assert findings
    assert expected in "\n".join(str(f) for f in findings)


def test_compose_passes_unchanged() -> None:
    assert compose.check(COMPOSE, _probe_paths()) == []


def test_required_settings_are_derived_from_the_settings_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service whose settings gain a field without a default must fail the check at once.
    package = tmp_path / "settlement_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        "from pydantic import Field\n"
        "from settlement_core.settings import CoreSettings\n\n\n"
        "class ProbeSettings(CoreSettings):\n"
        "    brand_new_required: str\n"
        "    aliased: str = Field(validation_alias='OTHER_NAME')\n"
        "    optional_one: int = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    required = settings_env.required_env(settings_env.settings_classes("settlement_probe_pkg"))
    names = {name for choice in required for name in choice}
    assert {"BRAND_NEW_REQUIRED", "OTHER_NAME", "DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP"} <= names
    assert "OPTIONAL_ONE" not in names
    findings = chart_policy.required_findings("svc", "settlement_probe_pkg", {"DATABASE_URL", "REDIS_URL"})
    missing = " ".join(f.message for f in findings)
    assert "BRAND_NEW_REQUIRED" in missing
    assert "OTHER_NAME" in missing
    assert "DATABASE_URL" not in missing


def test_every_service_requires_the_connection_settings() -> None:
    for package in settings_env.all_packages():
        required = {n for choice in settings_env.required_env(settings_env.settings_classes(package)) for n in choice}
        if package in settings_env.WORKER_MODULES:
            # the transparency-log integrator: the ledger and the log's keys, nothing else
            assert required == {"DATABASE_URL", "TLOG_SIGNING_KEY", "TLOG_SALT_KEY"}, package
            continue
        assert {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP", "TARGETS_FILE"} <= required, package


# --- schemas of rendered objects -------------------------------------------------------------


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }


def test_kubernetes_schema_is_strict() -> None:
    assert manifests.validate([_deployment()], "test") == []
    bad = _deployment()
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    findings = manifests.validate([bad], "test")
    assert len(findings) == 1
    assert "imagePullPolicyy" in findings[0].message


def test_unknown_kind_fails_instead_of_warning() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    findings = manifests.validate([widget], "test")
    assert len(findings) == 1
    assert "no schema" in findings[0].message


def test_custom_resources_are_checked_against_the_vendored_crd() -> None:
    monitor: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "http", "interval": "15s"}]},
    }
    assert manifests.validate([monitor], "test") == []
    monitor["spec"]["endpoints"][0]["intervl"] = "15s"
    findings = manifests.validate([monitor], "test")
    assert len(findings) == 1
    assert "intervl" in findings[0].message
    monitor["spec"]["endpoints"][0].pop("intervl")
    monitor["spec"]["endpoints"][0]["interval"] = "15 seconds"  # the CRD's duration pattern
    assert manifests.validate([monitor], "test") != []


def test_vendored_crds_match_their_recorded_sources(tmp_path: Path) -> None:
    assert crd_schemas.check_sources() == []
    copy = tmp_path / "crds"
    shutil.copytree(crd_schemas.CRD_DIR, copy)
    target = copy / "keda.sh_scaledobjects.yaml"
    target.write_text(target.read_text() + "\n# edited\n")
    findings = crd_schemas.check_sources(copy)
    assert [Path(f.where).name for f in findings] == ["keda.sh_scaledobjects.yaml"]
    assert "differs from SOURCES.md" in findings[0].message


# --- the chart -------------------------------------------------------------------------------


def test_ha_render_has_the_workloads_autoscalers_and_hook(helm: Helm) -> None:
    docs = render(helm, CI_VALUES / "ha-keda-values.yaml")
    kinds = Counter(d["kind"] for d in docs)
    assert kinds["Deployment"] == 4
    assert kinds["Service"] == 3
    assert kinds["PodDisruptionBudget"] == 3
    assert kinds["Secret"] == 0
    components = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in docs if d["kind"] == "Deployment"}
    assert components == {"ingest", "aggregate", "api", "integrator"}
    # the transparency-log integrator: one writer at a time (an advisory lock), never autoscaled
    (integrator,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-integrator")]
    assert integrator["spec"]["replicas"] == 1
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"} - {integrator["metadata"]["name"]}
    targets = Counter(
        (d["kind"], d["spec"]["scaleTargetRef"]["name"])
        for d in docs
        if d["kind"] in {"HorizontalPodAutoscaler", "ScaledObject"}
    )
    assert {name for _, name in targets} == names  # every workload autoscaled
    assert all(count == 1 for count in Counter(name for _, name in targets).values())  # never two on one
    aggregate = next(d for d in docs if d["kind"] == "ScaledObject")
    assert aggregate["spec"]["scaleTargetRef"]["name"].endswith("-aggregate")
    assert aggregate["spec"]["triggers"][0]["type"] == "kafka"
    hook = next(d for d in docs if d["kind"] == "Job")
    assert "pre-install" in hook["metadata"]["annotations"]["helm.sh/hook"]
    assert hook["spec"]["template"]["spec"]["containers"][0]["command"] == ["settlementctl", "init"]
    assert chart_policy.check(docs, chart_policy.Repo(ROOT)) == []


def test_no_secret_in_plain_values(helm: Helm) -> None:
    docs = render(helm, CI_VALUES / "ha-keda-values.yaml")
    for doc in docs:
        spec = doc["spec"]["template"]["spec"] if doc["kind"] in {"Deployment", "Job"} else None
        if spec is None:
            continue
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        # the integrator reads the ledger only: it has no Redis URL at all
        integrator = doc["metadata"]["name"].endswith("-integrator")
        for name in ("DATABASE_URL",) if integrator else ("DATABASE_URL", "REDIS_URL"):
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "settlement-tracker-connections"
            assert "value" not in env[name]
        assert not integrator or "REDIS_URL" not in env
    for path in [CHART / "values.yaml", *CI_VALUES.glob("*.yaml")]:
        scalars = list(_scalars(yaml.safe_load(path.read_text())))
        assert scalars, path
        assert not [v for v in scalars if "://" in v], path  # no connection URL in any values file


def _scalars(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _scalars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _scalars(value)
    else:
        yield str(node)


def test_a_plain_credential_is_a_finding(helm: Helm) -> None:
    docs = render(
        helm,
        CI_VALUES / "minimal-values.yaml",
        "--set-json",
        'extraEnv=[{"name":"DATABASE_URL","value":"postgresql+psycopg://u:pw@pg/settlement"}]',
    )
    messages = [f.message for f in chart_policy.check(docs, chart_policy.Repo(ROOT))]
    assert any("credential in a plain value" in m for m in messages), messages
    assert any("use valueFrom.secretKeyRef" in m for m in messages), messages


def test_a_pdb_that_blocks_every_drain_is_a_finding(helm: Helm) -> None:
    docs = render(
        helm,
        CI_VALUES / "minimal-values.yaml",
        "--set",
        "aggregate.pdb.maxUnavailable=",
        "--set",
        "aggregate.pdb.minAvailable=1",
    )
    messages = [str(f) for f in chart_policy.check(docs, chart_policy.Repo(ROOT))]
    assert messages == [
        "PodDisruptionBudget/lint-settlement-tracker-aggregate: minAvailable 1 with 1 replicas blocks every node drain"
    ]


def test_rules_and_dashboards_are_the_repository_files(helm: Helm) -> None:
    docs = render(helm, CI_VALUES / "all-values.yaml")
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
    dashboards = {
        key: json.loads(value)
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["labels"].get("grafana_dashboard") == "1"
        for key, value in d["data"].items()
    }
    files = {p.name: json.loads(p.read_text()) for p in (ROOT / "deploy/grafana/dashboards").glob("*.json")}
    assert files
    assert dashboards == files


def test_packaged_chart_carries_the_linked_files(helm: Helm, tmp_path: Path) -> None:
    # `helm package` resolves the symlinks: a chart installed from the archive has the rules.
    result = subprocess.run(
        [str(helm.binary), "package", str(CHART), "-d", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    (archive,) = tmp_path.glob("settlement-tracker-*.tgz")
    docs, findings = helm.template(archive, CI_VALUES / "all-values.yaml")
    assert findings == []
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
    assert chart_policy.check(docs, chart_policy.Repo(ROOT)) == []


SCHEMA_ERRORS = [
    pytest.param(["--set", "aggregate.replicas=13"], "/aggregate/replicas", id="aggregate-over-partitions"),
    pytest.param(
        [
            "--set",
            "kafka.partitions=4",
            "--set",
            "aggregate.autoscaling.mode=keda",
            "--set",
            "aggregate.autoscaling.maxReplicas=5",
        ],
        "/aggregate/autoscaling/maxReplicas",
        id="keda-max-over-partitions",
    ),
    pytest.param(["--set", "aggregate.replica=2"], "replica", id="misspelt-values-key"),
    pytest.param(["--set", "redis.mode=clustr"], "/redis/mode", id="redis-mode"),
    pytest.param(["--set", "aggregate.pdb.minAvailable=1"], "/aggregate/pdb", id="pdb-both-budgets"),
    pytest.param(["--set", "aggregate.autoscaling.mode=both"], "/aggregate/autoscaling/mode", id="both-autoscalers"),
    pytest.param(["--set", "secrets.existingSecret="], "/secrets/existingSecret", id="no-secret-name"),
    pytest.param(["--set", "tlog.existingSecret="], "/tlog/existingSecret", id="no-tlog-secret-name"),
    pytest.param(
        ["--set", "securityContext.readOnlyRootFilesystem=false"], "readOnlyRootFilesystem", id="writable-root"
    ),
]


@pytest.mark.parametrize(("flags", "pointer"), SCHEMA_ERRORS)
def test_values_schema_rejects(helm: Helm, flags: list[str], pointer: str) -> None:
    docs, findings = helm.template(CHART, CI_VALUES / "minimal-values.yaml", *flags)
    assert docs == []
    assert len(findings) == 1
    assert "values don't meet the specifications of the schema" in findings[0].message
    assert pointer in findings[0].message


def test_partition_bound_holds_for_every_partition_count(helm: Helm) -> None:
    docs, findings = helm.template(
        CHART, CI_VALUES / "minimal-values.yaml", "--set", "kafka.partitions=24", "--set", "aggregate.replicas=24"
    )
    assert findings == []
    assert (
        next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-aggregate"))["spec"][
            "replicas"
        ]
        == 24
    )
    schema = json.loads((CHART / "values.schema.json").read_text())
    bounds = {b["if"]["properties"]["kafka"]["properties"]["partitions"]["maximum"] for b in schema["allOf"]}
    cap = schema["properties"]["aggregate"]["properties"]["replicas"]["maximum"]
    assert bounds == set(range(1, cap))  # every partition count below the replica cap has its bound


def test_templates_enforce_the_partition_bound_without_the_schema(helm: Helm) -> None:
    docs, findings = helm.template(
        CHART, CI_VALUES / "minimal-values.yaml", "--skip-schema-validation", "--set", "aggregate.replicas=13"
    )
    assert docs == []
    assert "aggregate.replicas (13) exceeds kafka.partitions (12)" in findings[0].message


def test_lint_deploy_exits_non_zero_on_a_planted_values_error(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    values = root / "deploy/helm/settlement-tracker/ci/ha-keda-values.yaml"
    text = values.read_text()
    aggregate = "    mode: keda\n    minReplicas: 2\n    maxReplicas: 12\n"
    assert aggregate in text
    values.write_text(text.replace(aggregate, aggregate.replace("12", "13")))  # 12 partitions
    result = run_lint("--only", "chart", "--values", str(values), root=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "values don't meet the specifications of the schema" in result.stdout
    assert "at '/aggregate/autoscaling/maxReplicas': maximum: got 13, want 12" in result.stdout


def test_lint_deploy_fails_when_the_ci_values_stop_rendering_a_kind(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    values = root / "deploy/helm/settlement-tracker/ci/all-values.yaml"
    text = values.read_text()
    toggle = "  prometheusRule:\n    enabled: true\n"
    assert toggle in text
    values.write_text(text.replace(toggle, toggle.replace("true", "false")))
    result = run_lint("--only", "chart", root=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PrometheusRule rendered 0 times over all CI values" in result.stdout


def test_chart_lint_fails_on_a_template_error(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    template = root / "deploy/helm/settlement-tracker/templates/deployment.yaml"
    template.write_text(template.read_text().replace("imagePullPolicy:", "imagePullPolicyy:", 1))
    result = run_lint(
        "--only", "chart", "--values", str(root / "deploy/helm/settlement-tracker/ci/minimal-values.yaml"), root=root
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "'imagePullPolicyy' was unexpected" in result.stdout


def test_chart_lint_fails_on_a_stale_copy_of_the_rules(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    link = root / "deploy/helm/settlement-tracker/files/settlement.rules.yml"
    rules = yaml.safe_load(link.read_text())
    rules["groups"][0]["rules"].pop()
    link.unlink()
    link.write_text(yaml.safe_dump(rules))
    result = run_lint(
        "--only", "chart", "--values", str(root / "deploy/helm/settlement-tracker/ci/all-values.yaml"), root=root
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "must be a symlink to deploy/prometheus/settlement.rules.yml" in result.stdout
    assert "groups differ from" in result.stdout


def test_chart_lint_fails_on_yaml_style(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    values = root / "deploy/helm/settlement-tracker/ci/minimal-values.yaml"
    values.write_text(values.read_text().replace("secrets:\n", "secrets:   \n", 1))
    result = run_lint("--only", "chart", "--values", str(values), root=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "trailing-spaces" in result.stdout


# --- probes point at endpoints the services serve -------------------------------------------


def _probe_paths() -> dict[str, str]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    return {c: values[c]["readinessPath"] for c in ("ingest", "aggregate", "api")}


def _connection_settings() -> dict[str, Any]:
    return {
        "database_url": "postgresql+psycopg://u@127.0.0.1:1/none",
        "redis_url": "redis://127.0.0.1:1/0",
        "kafka_bootstrap": "127.0.0.1:1",
        "targets_file": ROOT / "seeds" / "targets.yaml",
    }


def test_fastapi_services_serve_the_probe_paths() -> None:
    settings = _connection_settings()
    paths = _probe_paths()

    async def statuses(app: Any) -> dict[str, int]:
        # ASGITransport does not run the lifespan: nothing connects, so a probe that needs a
        # connection answers 500 here. What matters is that the path is routed at all.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            return {
                path: (await client.get(path)).status_code for path in ("/no-such-probe", "/healthz", *paths.values())
            }

    for component, app in (
        ("ingest", ingest_app(IngestSettings(**settings))),
        ("api", api_app(ApiSettings(**settings))),
    ):
        status = asyncio.run(statuses(app))
        assert status["/no-such-probe"] == 404, component
        assert status["/healthz"] == 200, component  # the liveness probe
        assert status[paths[component]] != 404, component


def test_aggregator_serves_the_probe_paths() -> None:
    server = serve("127.0.0.1", 0, Readiness())
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        # Not ready yet (nothing consumed), but served: 503, not 404.
        assert httpx.get(f"{base}{_probe_paths()['aggregate']}", timeout=5).status_code == 503
    finally:
        server.shutdown()
        server.server_close()


# --- operator examples -----------------------------------------------------------------------


def test_examples_pass() -> None:
    assert lint_examples(ROOT, manifests.KUBERNETES_VERSION) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("cloudnativepg-cluster.yaml", "  instances: 3", "  instancess: 3", "'instancess' was unexpected"),
        ("strimzi-kafka.yaml", "  partitions: 12", "  partitions: 6", "events has 6 partitions, the chart 12"),
        ("valkey.yaml", "  serviceName:", "  serviceNam:", "'serviceNam' was unexpected"),
    ],
)
def test_examples_fail_on_planted_error(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = checkout_copy(tmp_path)
    path = root / "deploy/helm/examples" / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    findings = lint_examples(root, manifests.KUBERNETES_VERSION)
    assert expected in "\n".join(str(f) for f in findings)
