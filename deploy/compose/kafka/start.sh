#!/usr/bin/env bash
# Start the compose Kafka node with SASL/SCRAM-SHA-512. The image's own start-up formats the
# storage without SCRAM credentials, and a broker whose inter-broker listener is SCRAM cannot
# start without them, so this script formats (first start only) with the credentials from the
# compose secrets and then runs the broker on server.properties plus the JAAS lines.
set -euo pipefail
umask 077

secret() {
  local file="/run/secrets/$1" value
  [ -s "$file" ] || { echo "start.sh: secret $1 is missing or empty" >&2; exit 1; }
  value=$(cat "$file")
  # The value goes into a JAAS string between double quotes: allow no quote or backslash.
  [[ "$value" =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] || {
    echo "start.sh: secret $1 must be 16+ characters of [A-Za-z0-9._~+/=-] (e.g. openssl rand -hex 24)" >&2
    exit 1
  }
  printf '%s' "$value"
}

admin=$(secret kafka_admin_password)
ingest=$(secret kafka_ingest_password)
aggregate=$(secret kafka_aggregate_password)
# The quorum listener's only client is this process, so a fresh password per start suffices
# and none has to be stored.
controller=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

config=/tmp/kafka/server.properties
mkdir -p /tmp/kafka
cp /opt/settlement/kafka/server.properties "$config"
cat >> "$config" <<PROPS
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller" user_controller="$controller";
PROPS
# The health check's client settings (an unauthenticated probe would be refused).
cat > /tmp/kafka/probe.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
PROPS

if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  # SCRAM credentials enter the metadata log at format time (KIP-900). Later changes (a
  # rotation) go through kafka-configs.sh --alter --entity-type users as admin.
  # The passwords are on this command line for the few seconds the format runs, visible only
  # inside this container's process namespace.
  /opt/kafka/bin/kafka-storage.sh format --config "$config" \
    --cluster-id "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$admin]" \
    --add-scram "SCRAM-SHA-512=[name=ingest,password=$ingest]" \
    --add-scram "SCRAM-SHA-512=[name=aggregate,password=$aggregate]"
fi
unset admin ingest aggregate controller
exec /opt/kafka/bin/kafka-server-start.sh "$config"
