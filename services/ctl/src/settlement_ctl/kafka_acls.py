"""The Kafka ACLs of the service principals, created by `settlementctl init` as `admin`.

The brokers run StandardAuthorizer with allow.everyone.if.no.acl.found=false, so a principal
may do exactly what is listed here (docs/security/kafka-and-local.md):

- `ingest` writes, idempotently, to the events topic, and describes it (metadata);
- `aggregate` reads the events topic with its consumer group and writes the DLQ topic;
- `bench` does anything to the topics, groups and transactional ids whose names start with
  `bench.` (and the changelog topics Quix Streams names after such a group), nothing else.

`admin` is a super user and needs none. Creating an ACL that exists is a no-op on the broker,
so running init again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
)

from settlement_core.kafka_io import KafkaAccess, admin_client

CLUSTER = "kafka-cluster"
BENCH_PREFIX = "bench."
# Quix Streams names its changelog topics changelog__<group>--<topic>--<store>.
BENCH_CHANGELOG_PREFIX = "changelog__bench."


class Principal(StrEnum):
    INGEST = "ingest"
    AGGREGATE = "aggregate"
    BENCH = "bench"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Grant:
    """One ALLOW rule: principal may `operation` on the resource `name` (exact or prefix)."""

    principal: Principal
    operation: ACLOperation
    resource: ResourceType
    name: str
    prefixed: bool = False

    def to_acl(self) -> ACL:
        pattern = ACLResourcePatternType.PREFIXED if self.prefixed else ACLResourcePatternType.LITERAL
        return ACL(
            principal=f"User:{self.principal}",
            host="*",
            operation=self.operation,
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(self.resource, self.name, pattern),
        )


def service_grants(events_topic: str, dlq_topic: str, consumer_group: str) -> tuple[Grant, ...]:
    """Pure: the whole ACL set of the non-admin principals."""
    topic, group, cluster, txn = (
        ResourceType.TOPIC,
        ResourceType.GROUP,
        ResourceType.CLUSTER,
        ResourceType.TRANSACTIONAL_ID,
    )
    op = ACLOperation
    ingest = Principal.INGEST
    aggregate = Principal.AGGREGATE
    bench = Principal.BENCH
    return (
        Grant(ingest, op.WRITE, topic, events_topic),
        Grant(ingest, op.DESCRIBE, topic, events_topic),
        Grant(ingest, op.IDEMPOTENT_WRITE, cluster, CLUSTER),
        Grant(aggregate, op.READ, topic, events_topic),
        Grant(aggregate, op.DESCRIBE, topic, events_topic),
        Grant(aggregate, op.READ, group, consumer_group),
        Grant(aggregate, op.DESCRIBE, group, consumer_group),
        Grant(aggregate, op.WRITE, topic, dlq_topic),
        Grant(aggregate, op.DESCRIBE, topic, dlq_topic),
        Grant(aggregate, op.IDEMPOTENT_WRITE, cluster, CLUSTER),
        Grant(bench, op.ALL, topic, BENCH_PREFIX, prefixed=True),
        Grant(bench, op.ALL, topic, BENCH_CHANGELOG_PREFIX, prefixed=True),
        Grant(bench, op.ALL, group, BENCH_PREFIX, prefixed=True),
        Grant(bench, op.ALL, txn, BENCH_PREFIX, prefixed=True),
        Grant(bench, op.IDEMPOTENT_WRITE, cluster, CLUSTER),
    )


class AclError(RuntimeError):
    """The broker refused to create an ACL (no authorizer, or the caller is not admin)."""


def apply_grants(access: KafkaAccess, grants: tuple[Grant, ...], timeout_s: float = 30.0) -> int:
    """Create every ACL (idempotent); returns how many were asked for."""
    admin = admin_client(access, client_id="settlement-admin-acls", request_timeout_ms=int(timeout_s * 1000))
    try:
        result = admin.create_acls([g.to_acl() for g in grants])
    finally:
        admin.close()
    failed = result.get("failed", [])
    if failed:
        raise AclError(f"{len(failed)} ACLs not created: {failed[0]}")
    return len(grants)
