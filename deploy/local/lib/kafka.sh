# shellcheck shell=bash
# Kafka (KRaft, combined broker and controller): one node, started, readied and stopped the
# same way in both topologies. The topology says which node ids, ports and voters there are
# and adds its replication settings (single.sh: RF 1; cluster.sh: RF 3, min ISR 2).

# SCRAM principals written into the metadata log at format time.
SCRAM_USERS="admin ingest aggregate bench broker"

kafka_fetch() {
  if [ ! -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; then
    need mvn "install Maven (apt-get install -y maven)"
    log "fetching Kafka $KAFKA_VERSION jars with mvn into $KAFKA_LIBS"
    mkdir -p "$KAFKA_LIBS"
    mvn -q -B -f "$ROOT/deploy/local/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$KAFKA_LIBS" \
      || die "mvn could not fetch the Kafka jars"
  fi
}

kafka_random_id() { java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1; }

# Authentication and authorisation of every node (both topologies). The broker listener CLIENT
# (clients and, as inter-broker listener, the brokers themselves) takes SASL/SCRAM-SHA-512
# only. The KRaft controller listener cannot use SCRAM: SCRAM credentials live in the
# metadata log, which the controllers serve, so a controller could not check them before the
# quorum is up (Kafka refuses SCRAM there). It takes SASL/PLAIN with the one user `controller`
# whose password comes from the secrets file through this JAAS line (its server side checks
# `user_controller`, its client side, used by brokers and the other controllers, logs in
# as `controller`). Loopback only, so PLAIN sends that password over no network.
# StandardAuthorizer with allow.everyone.if.no.acl.found=false: a principal may do only
# what an ACL allows it (`settlementctl init` creates them); the super users are the
# operator principal `admin` and the nodes' own `broker` and `controller`.
kafka_security_props() {
  cat <<PROPS
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$KAFKA_BROKER_PASSWORD";
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$KAFKA_CONTROLLER_PASSWORD" user_controller="$KAFKA_CONTROLLER_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:broker;User:controller
PROPS
}

# `kafka-storage format` arguments that write the SCRAM credentials of every principal into
# the metadata log, so the very first client already has to authenticate.
kafka_scram_args() {
  for user in $SCRAM_USERS; do
    printf '%s\n' --add-scram "SCRAM-SHA-512=[name=$user,password=$(kafka_password_of "$user")]"
  done
}

# Formats a node's log folder once (cluster id: the topology's, or a new one). A folder
# formatted before authentication (no marker) holds no SCRAM credentials and cannot gain them
# offline: stop with what to do instead of starting a broker nobody can log in to.
kafka_format() { # dir cluster-id log
  local dir="$1" id="$2" logf="$3"
  if [ -f "$dir/data/meta.properties" ]; then
    [ -f "$dir/data/scram-formatted" ] && return 0
    die "$dir was formatted before Kafka authentication (no SCRAM users in its metadata). Its topics cannot be converted: stop the stack and remove $STACK_DIR (all local data) or run stack.sh wipe (stack.sh --cluster wipe for the cluster; both keep the secrets), then start again"
  fi
  [ -n "$id" ] || id=$(kafka_random_id)
  local args=()
  mapfile -t args < <(kafka_scram_args)
  java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "${args[@]}" -g \
    >> "$logf" 2>&1 || die "kafka storage format failed (see $logf)"
  echo "$SCRAM_USERS" > "$dir/data/scram-formatted"
}

# Writes the node's configuration, formats its folder once and starts it; ready once
# kafka_node_wait returns. State in $STACK_DIR/<name>, output in $LOGS/<name>.log.start
# (appended to <name>.log once it is ready). The topology's props function adds its
# replication settings; KAFKA_NODE_JVM_FLAGS its JVM flags.
kafka_node_start() { # name node-id port controller-port voters cluster-id props-function
  local name="$1" id="$2" port="$3" cport="$4" voters="$5" cluster_id="$6" props="$7"
  local dir="$STACK_DIR/$1" logf="$LOGS/$1.log"
  need java "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  check_port_free "$name" "$port"; check_port_free "$name-controller" "$cport"
  kafka_fetch
  mkdir -p "$dir/data"
  (
    umask 077  # it holds the broker's and controller's passwords
    {
      cat <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=CLIENT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=CLIENT://127.0.0.1:$port
PROPS
      kafka_security_props
      cat <<PROPS
log.dirs=$dir/data
num.partitions=12
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
      "$props"
    } > "$dir/server.properties"
  )
  chmod 600 "$dir/server.properties"
  kafka_format "$dir" "$cluster_id" "$logf"
  : > "$logf.start"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC $KAFKA_NODE_JVM_FLAGS \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" > "$logf.start" 2>&1 &
  record_pid "$name" $!
}

kafka_node_ready() { grep -q "Kafka Server started" "$LOGS/$1.log.start"; }

kafka_node_wait() { # name
  wait_ready "$1" "$READY_TIMEOUT" kafka_node_ready "$1"
  cat "$LOGS/$1.log.start" >> "$LOGS/$1.log"
}

# Every partition of every topic has its full replica set in sync (kafka-python's admin).
kafka_isr_full() { # bootstrap
  KAFKA_BOOTSTRAP="$1" KAFKA_USERNAME=admin KAFKA_PASSWORD="$KAFKA_ADMIN_PASSWORD" "$VENV/bin/python" - <<'PY'
import os
import sys
from settlement_core.kafka_io import KafkaAccess, admin_client
admin = admin_client(KafkaAccess.from_env(os.environ), request_timeout_ms=5000)
try:
    topics = admin.describe_topics()
    short = [
        (t["name"], p["partition_index"])
        for t in topics
        for p in t["partitions"]
        if len(p["isr_nodes"]) < len(p["replica_nodes"])
    ]
    sys.exit(1 if short else 0)
finally:
    admin.close()
PY
}
