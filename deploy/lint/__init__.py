"""Offline checks of everything a user deploys with: the Helm chart and docker-compose.yml.

`python -m deploy.lint` (what `make lint-deploy` runs) lints and renders the chart for every
`ci/*-values.yaml`, validates each rendered object against the Kubernetes schemas
(kubernetes-validate, strict) or a vendored CRD schema (check-jsonschema), applies the
project's own policies (no secret in plain values, probes, the aggregator's partition bound,
rules and dashboards identical to deploy/prometheus and deploy/grafana), and checks
docker-compose.yml against the compose spec and for dangling references. Every problem is a
`Finding`; any finding makes the run exit 1.
"""
