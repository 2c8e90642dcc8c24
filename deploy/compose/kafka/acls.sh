#!/usr/bin/env bash
# One-shot ACL set-up for docker-compose.yml, run as the admin principal after the broker is
# healthy and before `settlementctl init`. The broker denies everything without an ACL
# (allow.everyone.if.no.acl.found=false); these are the only grants, the same as the
# KafkaUser resources of deploy/helm/examples/strimzi-kafka.yaml. Adding an existing ACL is a
# no-op, so a re-run is harmless.
set -euo pipefail
umask 077

[ -s /run/secrets/kafka_admin_password ] || { echo "acls.sh: secret kafka_admin_password is missing" >&2; exit 1; }
client=/tmp/admin.properties
{
  echo "security.protocol=SASL_PLAINTEXT"
  echo "sasl.mechanism=SCRAM-SHA-512"
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(cat /run/secrets/kafka_admin_password)\";"
} > "$client"

acl() {
  local principal="$1"
  shift
  /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:9092 --command-config "$client" \
    --add --allow-principal "User:$principal" "$@"
}

# ingest: produce (idempotently) to the events topic, nothing else. Write implies Describe.
acl ingest --operation Write --topic settlement.events
acl ingest --operation IdempotentWrite --cluster
# aggregate: consume the events topic in its group, dead-letter to the DLQ.
acl aggregate --operation Read --topic settlement.events
acl aggregate --operation Read --group settlement-aggregate
acl aggregate --operation Write --topic settlement.events.dlq
rm -f "$client"
