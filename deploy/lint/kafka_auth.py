"""Kafka authenticated and authorised wherever the project deploys it.

- a broker's properties (docker-compose.yml's server.properties): every listener is SASL,
  clients authenticate with SCRAM-SHA-512, StandardAuthorizer denies whatever no ACL allows,
  admin is the super user;
- a Strimzi `Kafka` (deploy/helm/examples): every listener has authentication, `simple`
  authorization with admin among the superUsers;
- Strimzi `KafkaUser`s: exactly the principals and ACLs of `expected_acls`, nothing else;
  `expected_acls` is read from settlementctl's own list (settlement_ctl.kafka_acls), so the
  ACLs `settlementctl init` creates and the ones Strimzi's User Operator owns are one set;
- Kafka clients (compose services and chart containers): SASL with SCRAM-SHA-512 and their
  own principal; the API has no Kafka credentials at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploy.lint.findings import Finding
from kafka.admin import ACLOperation, ResourceType

from settlement_ctl.kafka_acls import Grant, Principal, service_grants

SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
SCRAM = "SCRAM-SHA-512"
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ADMIN = "admin"
# Which principal each entry point's settings package connects as; the API none.
PRINCIPAL_OF_PACKAGE: Mapping[str, str | None] = {
    "settlement_ingest": "ingest",
    "settlement_aggregate": "aggregate",
    "settlement_core": ADMIN,  # settlementctl
    "settlement_api": None,
    "settlement_aggregate.integrator": None,  # the transparency log: PostgreSQL only
}
# Kafka calls the one cluster resource this; Strimzi takes no name for it.
CLUSTER = "kafka-cluster"


@dataclass(frozen=True, order=True, slots=True)
class Acl:
    """One allowed operation on one resource (Kafka's ACL binding without the principal)."""

    resource_type: str  # topic | group | cluster | transactionalId (Strimzi's spelling)
    name: str
    pattern_type: str  # literal | prefix
    operation: str
    permission: str = "allow"
    host: str = "*"

    def __str__(self) -> str:
        return f"{self.permission} {self.operation} on {self.resource_type} {self.name} ({self.pattern_type})"


# Strimzi's spelling of Kafka's resource types and operations (KafkaUser spec.authorization).
_STRIMZI_RESOURCE = {
    ResourceType.TOPIC: "topic",
    ResourceType.GROUP: "group",
    ResourceType.CLUSTER: "cluster",
    ResourceType.TRANSACTIONAL_ID: "transactionalId",
}
# The principals the deployments run; `bench` exists on the local stacks only (make bench)
# and has no KafkaUser, so its grants are no part of a deployment.
DEPLOYED_PRINCIPALS = frozenset({Principal.INGEST, Principal.AGGREGATE})


def strimzi_acl(grant: Grant) -> Acl:
    """One settlementctl grant as a Strimzi KafkaUser would list it."""
    operation = "".join(part.capitalize() for part in grant.operation.name.split("_"))  # IDEMPOTENT_WRITE
    return Acl(
        _STRIMZI_RESOURCE[grant.resource],
        CLUSTER if grant.resource == ResourceType.CLUSTER else grant.name,
        "prefix" if grant.prefixed else "literal",
        "All" if grant.operation == ACLOperation.ALL else operation,
    )


def expected_acls(events_topic: str, dlq_topic: str, consumer_group: str) -> dict[str, frozenset[Acl]]:
    """The only grants there are: settlementctl's (`service_grants`) of the deployed principals,
    so the Strimzi KafkaUsers and `settlementctl init` cannot drift apart."""
    grants = service_grants(events_topic, dlq_topic, consumer_group)
    expected: dict[str, frozenset[Acl]] = {
        str(principal): frozenset(strimzi_acl(g) for g in grants if g.principal == principal)
        for principal in sorted(DEPLOYED_PRINCIPALS)
    }
    expected[ADMIN] = frozenset()  # a super user: ACLs would be meaningless
    return expected


# --- broker properties -------------------------------------------------------------------------


def parse_properties(text: str) -> dict[str, str]:
    """Java properties, the subset Kafka configs use (key=value lines, # comments)."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        props[key.strip()] = value.strip()
    return props


def _listeners(value: str) -> list[str]:
    return [item.split("://", 1)[0].strip().upper() for item in value.split(",") if "://" in item]


def broker_findings(where: str, props: Mapping[str, str]) -> list[Finding]:
    """Authentication on every listener and deny-by-default authorisation."""
    findings: list[Finding] = []
    listeners = _listeners(props.get("listeners", ""))
    if not listeners:
        findings.append(Finding(where, "no `listeners`: cannot tell how clients connect"))
    pairs = (item.partition(":") for item in props.get("listener.security.protocol.map", "").split(","))
    protocol_map = {name.strip().upper(): protocol.strip().upper() for name, _, protocol in pairs if protocol}
    controllers = {name.strip().upper() for name in props.get("controller.listener.names", "").split(",") if name}
    default_mechanisms = props.get("sasl.enabled.mechanisms", "GSSAPI")
    for name in listeners:
        protocol = protocol_map.get(name, name)
        if protocol not in SASL_PROTOCOLS:
            findings.append(Finding(where, f"listener {name} is {protocol}: every listener must authenticate (SASL)"))
            continue
        if name in controllers:
            continue  # KRaft quorum: SCRAM is impossible there, PLAIN is what it has
        mechanisms = props.get(f"listener.name.{name.lower()}.sasl.enabled.mechanisms", default_mechanisms)
        if {m.strip() for m in mechanisms.split(",") if m.strip()} != {SCRAM}:
            findings.append(Finding(where, f"listener {name} enables SASL mechanisms {mechanisms}, want only {SCRAM}"))
    if props.get("authorizer.class.name") != STANDARD_AUTHORIZER:
        findings.append(Finding(where, f"authorizer.class.name is not {STANDARD_AUTHORIZER}: nothing is authorised"))
    if props.get("allow.everyone.if.no.acl.found", "").lower() != "false":
        findings.append(Finding(where, "allow.everyone.if.no.acl.found must be false: deny what no ACL allows"))
    supers = {s.strip() for s in props.get("super.users", "").split(";")}
    if f"User:{ADMIN}" not in supers:
        findings.append(Finding(where, f"super.users does not name User:{ADMIN} (settlementctl's principal)"))
    return findings


# --- Strimzi -----------------------------------------------------------------------------------


def _name(doc: Mapping[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def strimzi_kafka_findings(where: str, kafka: Mapping[str, Any]) -> list[Finding]:
    at = f"{where}: {_name(kafka)}"
    spec = kafka.get("spec", {}).get("kafka", {})
    findings: list[Finding] = []
    for listener in spec.get("listeners", []):
        kind = (listener.get("authentication") or {}).get("type")
        if kind not in {"scram-sha-512", "tls"}:
            findings.append(
                Finding(at, f"listener {listener.get('name')} has authentication {kind}: a PLAINTEXT listener")
            )
    authorization = spec.get("authorization") or {}
    if authorization.get("type") != "simple":
        findings.append(Finding(at, "authorization.type is not simple: every client could do everything"))
    if ADMIN not in authorization.get("superUsers", []):
        findings.append(Finding(at, f"authorization.superUsers does not name {ADMIN}"))
    return findings


def kafka_user_acls(user: Mapping[str, Any]) -> frozenset[Acl]:
    """A KafkaUser's ACLs, one Acl per operation, with Strimzi's defaults filled in."""
    acls: set[Acl] = set()
    authorization = user.get("spec", {}).get("authorization") or {}
    for rule in authorization.get("acls", []):
        resource = rule.get("resource", {})
        kind = str(resource.get("type"))
        name = CLUSTER if kind == "cluster" else str(resource.get("name", ""))
        for operation in rule.get("operations", []):
            acls.add(
                Acl(
                    kind,
                    name,
                    str(resource.get("patternType", "literal")),
                    str(operation),
                    str(rule.get("type", "allow")),
                    str(rule.get("host", "*")),
                )
            )
    return frozenset(acls)


def kafka_user_findings(
    where: str, users: list[Mapping[str, Any]], expected: Mapping[str, frozenset[Acl]]
) -> list[Finding]:
    """Exactly the expected principals, each with SCRAM and exactly its ACLs."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for user in users:
        principal = str(user.get("spec", {}).get("userName") or user.get("metadata", {}).get("name"))
        at = f"{where}: {_name(user)}"
        seen.add(principal)
        if principal not in expected:
            findings.append(Finding(at, f"principal {principal} is none of {sorted(expected)}: nobody else gets in"))
            continue
        kind = (user.get("spec", {}).get("authentication") or {}).get("type")
        if kind != "scram-sha-512":
            findings.append(Finding(at, f"authentication is {kind}, want scram-sha-512"))
        actual = kafka_user_acls(user)
        for extra in sorted(actual - expected[principal]):
            findings.append(Finding(at, f"ACL not in the specification: {extra}"))
        for missing in sorted(expected[principal] - actual):
            findings.append(Finding(at, f"ACL missing: {missing}"))
    for principal in sorted(set(expected) - seen):
        findings.append(Finding(where, f"no KafkaUser for principal {principal}"))
    return findings


# --- clients -----------------------------------------------------------------------------------


def client_findings(where: str, package: str, env: Mapping[str, str | None]) -> list[Finding]:
    """`env`: name -> literal value, or None where it comes from a secret reference."""
    if package not in PRINCIPAL_OF_PACKAGE:
        return []
    principal = PRINCIPAL_OF_PACKAGE[package]
    if principal is None:
        leaked = sorted({"KAFKA_USERNAME", "KAFKA_PASSWORD"} & set(env))
        return [Finding(where, f"{package} never talks to Kafka, yet has {', '.join(leaked)}")] if leaked else []
    findings: list[Finding] = []
    protocol = env.get("KAFKA_SECURITY_PROTOCOL")
    if protocol not in SASL_PROTOCOLS:
        findings.append(Finding(where, f"KAFKA_SECURITY_PROTOCOL is {protocol}, want one of {sorted(SASL_PROTOCOLS)}"))
    if env.get("KAFKA_SASL_MECHANISM") != SCRAM:
        findings.append(Finding(where, f"KAFKA_SASL_MECHANISM is {env.get('KAFKA_SASL_MECHANISM')}, want {SCRAM}"))
    if env.get("KAFKA_USERNAME") != principal:
        findings.append(Finding(where, f"KAFKA_USERNAME is {env.get('KAFKA_USERNAME')}, want its own: {principal}"))
    if "KAFKA_PASSWORD" not in env:
        findings.append(Finding(where, "KAFKA_PASSWORD is not set"))
    return findings
