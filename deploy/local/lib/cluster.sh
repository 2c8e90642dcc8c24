# shellcheck shell=bash
# The cluster topology (`stack.sh --cluster ...`, make run-cluster / make test-cluster;
# docs/operations.md): three combined KRaft Kafka nodes (RF 3, min ISR 2), a Redis Cluster of
# 3 masters + 3 replicas, a PostgreSQL primary with a synchronous standby. State in
# .stack-cluster/ with ports of its own (settings.sh), so it never touches the single node.

KAFKA_NODES="1 2 3"
REDIS_NODES="1 2 3 4 5 6"
NODES="toxiproxy kafka-1 kafka-2 kafka-3 redis-1 redis-2 redis-3 redis-4 redis-5 redis-6 pg-primary pg-standby prometheus $SERVICES"
KAFKA_NODE_JVM_FLAGS="-XX:ParallelGCThreads=1 -XX:CICompilerCount=2"

# Node i listens on BASE + i - 1.
kport() { echo $((CLUSTER_KAFKA_PORT + $1 - 1)); }
kcport() { echo $((CLUSTER_KAFKA_CONTROLLER_PORT + $1 - 1)); }
rport() { echo $((CLUSTER_REDIS_PORT + $1 - 1)); }
rproxyport() { echo $((CLUSTER_REDIS_PROXY_PORT + $1 - 1)); }
# Where clients reach Redis node i and the PostgreSQL nodes: through toxiproxy when proxied.
rclientport() { if [ "$NEMESIS_PROXY" = 1 ]; then rproxyport "$1"; else rport "$1"; fi; }
pgclientport() { # primary|standby
  local base=$CLUSTER_PG_PORT; [ "$1" = standby ] && base=$CLUSTER_PG_STANDBY_PORT
  if [ "$NEMESIS_PROXY" = 1 ]; then
    base=$CLUSTER_PG_PROXY_PORT; [ "$1" = standby ] && base=$((base + 1))
  fi
  echo "$base"
}

topology_bootstrap() {
  local out="" i
  for i in $KAFKA_NODES; do out="$out${out:+,}127.0.0.1:$(kport "$i")"; done
  echo "$out"
}

topology_env() {
  local redis_hosts
  redis_hosts="127.0.0.1:$(rclientport 1),127.0.0.1:$(rclientport 2),127.0.0.1:$(rclientport 3)"
  cat <<ENV
DATABASE_URL='postgresql+psycopg://settlement:$PG_PASSWORD@/settlement?host=127.0.0.1:$(pgclientport primary)&host=127.0.0.1:$(pgclientport standby)&target_session_attrs=read-write'
REDIS_URL=redis://:$REDIS_PASSWORD@$redis_hosts/0
REDIS_MODE=cluster
REDIS_PASSWORD=$REDIS_PASSWORD
KAFKA_BOOTSTRAP=$(topology_bootstrap)
TOPIC_REPLICATION_FACTOR=3
TOPIC_MIN_INSYNC_REPLICAS=2
CLUSTER_KAFKA_PORT=$CLUSTER_KAFKA_PORT
CLUSTER_KAFKA_CONTROLLER_PORT=$CLUSTER_KAFKA_CONTROLLER_PORT
CLUSTER_REDIS_PORT=$CLUSTER_REDIS_PORT
CLUSTER_PG_PORT=$CLUSTER_PG_PORT
CLUSTER_PG_STANDBY_PORT=$CLUSTER_PG_STANDBY_PORT
NEMESIS_PROXY=$NEMESIS_PROXY
TOXIPROXY_URL=http://127.0.0.1:$TOXIPROXY_PORT
CLUSTER_PG_PROXY_PORT=$CLUSTER_PG_PROXY_PORT
CLUSTER_REDIS_PROXY_PORT=$CLUSTER_REDIS_PROXY_PORT
PG_BIN=$PG_BIN
PG_HOME=$(pg_home)
ENV
}

# ---------------------------------------------------------------- kafka
# Internal topics at RF 3 / min ISR 2 too: Kafka's own 3-node example sets them to 1,
# which would let one dead broker take the group coordinator (and producer ids) away.
cluster_kafka_props() {
  cat <<PROPS
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
# Three JVMs start at once on a shared 2-core machine: at a load average of 50 the
# controllers took over 60 s (the default) to let the brokers catch up, and all three
# brokers gave up with "fatal error while waiting for the controller to acknowledge that
# we are caught up". Five minutes, like READY_TIMEOUT's worst case.
initial.broker.registration.timeout.ms=300000
PROPS
}

# One node; `start kafka-<i>` also restarts a node a test killed (same data).
cluster_kafka_node_start() { # i
  local i="$1" voters="" n
  for n in $KAFKA_NODES; do voters="$voters${voters:+,}$n@127.0.0.1:$(kcport "$n")"; done
  kafka_node_start "kafka-$i" "$i" "$(kport "$i")" "$(kcport "$i")" "$voters" "$(cat "$STACK_DIR/kafka-cluster-id")" cluster_kafka_props
}

# All three at once (each waits for the others' votes), then every partition at full ISR.
cluster_kafka_start() {
  need java "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  kafka_fetch
  [ -f "$STACK_DIR/kafka-cluster-id" ] || kafka_random_id > "$STACK_DIR/kafka-cluster-id"
  local i started=()
  for i in $KAFKA_NODES; do
    pid_alive "kafka-$i" && continue
    cluster_kafka_node_start "$i"; started+=("kafka-$i")
  done
  for name in "${started[@]+"${started[@]}"}"; do kafka_node_wait "$name"; done
  wait_for "kafka in-sync replicas" "$READY_TIMEOUT" kafka_isr_full "$(topology_bootstrap)"
  log "kafka cluster ready on 127.0.0.1:$(kport 1)-$(kport 3) (RF 3, min ISR 2)"
}

# ---------------------------------------------------------------- redis
cluster_redis_conf() {
  cat <<CONF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $CLUSTER_REDIS_NODE_TIMEOUT_MS
cluster-require-full-coverage yes
masterauth $REDIS_PASSWORD
CONF
}

# Proxied, a node announces its proxy's port to clients (CLUSTER SLOTS/SHARDS, MOVED), so
# every connection a cluster client opens goes through toxiproxy; the bus port stays the
# real one (gossip and failover votes are not proxied). Replicas follow the announced
# address too, so a Redis partition also stalls replication (docs/operations.md).
cluster_redis_node_conf() { # the node CLUSTER_REDIS_NODE
  cluster_redis_conf
  if [ "$NEMESIS_PROXY" = 1 ]; then
    echo "cluster-announce-ip 127.0.0.1"
    echo "cluster-announce-port $(rproxyport "$CLUSTER_REDIS_NODE")"
    echo "cluster-announce-bus-port $(($(rport "$CLUSTER_REDIS_NODE") + 10000))"
  fi
}
cluster_redis_node_start() { # i
  CLUSTER_REDIS_NODE=$1
  redis_node_start "redis-$1" "$(rport "$1")" cluster_redis_node_conf
}

redis_cluster_ok() {
  local i
  for i in $REDIS_NODES; do rcli "$(rport "$i")" cluster info 2>/dev/null | grep -q "cluster_state:ok" || return 1; done
}

cluster_redis_start() {
  local i
  for i in $REDIS_NODES; do
    pid_alive "redis-$i" || cluster_redis_node_start "$i"
  done
  for i in $REDIS_NODES; do redis_node_wait "redis-$i" "$(rport "$i")"; done
  if ! rcli "$(rport 1)" cluster info | grep -q "cluster_known_nodes:6"; then
    local nodes=()
    for i in $REDIS_NODES; do nodes+=("127.0.0.1:$(rport "$i")"); done
    redis-cli -a "$REDIS_PASSWORD" --no-auth-warning --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
      >> "$LOGS/redis-cluster.log" 2>&1 || die "redis --cluster create failed (see $LOGS/redis-cluster.log)"
  fi
  wait_for "redis cluster" "$READY_TIMEOUT" redis_cluster_ok
  log "redis cluster ready on 127.0.0.1:$(rport 1)-$(rport 6) (3 masters + 3 replicas)"
}

# ---------------------------------------------------------------- postgres
# The primary, then a standby cloned from it and named in synchronous_standby_names, so a
# commit returns only once the standby has it too.
cluster_pg_options() { # name
  echo "-c wal_level=replica -c max_wal_senders=10 -c hot_standby=on -c cluster_name=${1//-/_}"
}

cluster_postgres_start() {
  need_pg
  pg_prepare_home
  local home; home=$(pg_home)
  local primary="$home/primary" standby="$home/standby"
  if ! pid_alive pg-primary; then
    check_port_free pg-primary "$CLUSTER_PG_PORT"
    [ -f "$primary/PG_VERSION" ] || pg_initdb "$primary"
    pg_node_start pg-primary "$primary" "$CLUSTER_PG_PORT" \
      "$(cluster_pg_options pg-primary) -c synchronous_commit=on -c synchronous_standby_names=pg_standby"
  fi
  if ! pid_alive pg-standby; then
    check_port_free pg-standby "$CLUSTER_PG_STANDBY_PORT"
    [ -f "$standby/PG_VERSION" ] || pg_clone "$standby" "$CLUSTER_PG_PORT"
    pg_node_start pg-standby "$standby" "$CLUSTER_PG_STANDBY_PORT" "$(cluster_pg_options pg-standby)"
  fi
  pg_ensure_database "$CLUSTER_PG_PORT"
  wait_for "postgres synchronous standby" "$READY_TIMEOUT" pg_sync_ok
  log "postgres ready: primary 127.0.0.1:$CLUSTER_PG_PORT, synchronous standby 127.0.0.1:$CLUSTER_PG_STANDBY_PORT"
}

pg_sync_ok() {
  pg_psql -h "$(pg_home)/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -tAc \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name='pg_standby'" | grep -q sync
}

# ---------------------------------------------------------------- the topology's interface
topology_start() { # component, or one engine node (a test restarts what it killed)
  # Proxied, toxiproxy comes first: Redis replicas connect through it.
  if [ "$NEMESIS_PROXY" = 1 ]; then case "$1" in kafka|redis*|postgres|toxiproxy) toxiproxy_start ;; esac; fi
  case "$1" in
    toxiproxy) ;;
    kafka) cluster_kafka_start ;;
    redis) cluster_redis_start ;;
    postgres) cluster_postgres_start ;;
    kafka-[123])
      pid_alive "$1" && { log "$1 already running"; return; }
      cluster_kafka_node_start "${1#kafka-}"; kafka_node_wait "$1" ;;
    redis-[1-6])
      pid_alive "$1" && { log "$1 already running"; return; }
      cluster_redis_node_start "${1#redis-}"; redis_node_wait "$1" "$(rport "${1#redis-}")" ;;
    prometheus) prometheus_start ;;
    *) service_start "$1" ;;
  esac
}

topology_stop() { # component or engine node
  case "$1" in
    kafka) for i in 3 2 1; do proc_stop "kafka-$i"; done; proc_stop toxiproxy ;;  # stopped last
    toxiproxy) proc_stop toxiproxy ;;
    redis) for i in 6 5 4 3 2 1; do proc_stop "redis-$i"; done ;;
    postgres) pg_node_stop pg-standby "$(pg_home)/standby"; pg_node_stop pg-primary "$(pg_home)/primary" ;;
    kafka-[123]|redis-[1-6]|prometheus) proc_stop "$1" ;;
    *) service_stop "$1" ;;
  esac
}

topology_nodes() { # component -> its processes
  case "$1" in
    kafka) echo kafka-1 kafka-2 kafka-3 ;;
    redis) echo redis-1 redis-2 redis-3 redis-4 redis-5 redis-6 ;;
    postgres) echo pg-primary pg-standby ;;
    *) echo "$1" ;;
  esac
}

# Remove the cluster's data (Kafka logs, Redis nodes, both PostgreSQL data dirs) so that
# the next start is fresh: a promoted standby cannot simply become a standby again.
topology_wipe() {
  rm -rf "$STACK_DIR"/kafka-[123] "$STACK_DIR"/redis-[1-6] "$STACK_DIR/kafka-cluster-id" "$RUN"
  pg_wipe
}
