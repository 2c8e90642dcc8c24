# shellcheck shell=bash
# The single-node topology (`stack.sh ...`, make run / make test): one Kafka node at RF 1,
# one Redis server, one PostgreSQL server, Prometheus, the services. State in .stack/.

NODES="kafka redis postgres prometheus $SERVICES"
KAFKA_NODE_JVM_FLAGS="-Dorg.slf4j.simpleLogger.defaultLogLevel=info"

topology_env() {
  cat <<ENV
DATABASE_URL=postgresql+psycopg://settlement:$PG_PASSWORD@127.0.0.1:$PG_PORT/settlement
REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0
KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
ENV
}

topology_bootstrap() { echo "127.0.0.1:$KAFKA_PORT"; }

single_kafka_props() {
  cat <<PROPS
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
PROPS
}

# Redis databases: each test takes its own (tests/conftest.py).
single_redis_conf() { echo "databases 256"; }

topology_start() { # component
  case "$1" in
    kafka)
      pid_alive kafka && { log "kafka already running"; return; }
      kafka_node_start kafka 1 "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "1@127.0.0.1:$KAFKA_CONTROLLER_PORT" "" single_kafka_props
      kafka_node_wait kafka
      log "kafka ready on 127.0.0.1:$KAFKA_PORT" ;;
    redis)
      pid_alive redis && { log "redis already running"; return; }
      redis_node_start redis "$REDIS_PORT" single_redis_conf
      redis_node_wait redis "$REDIS_PORT"
      log "redis ready on 127.0.0.1:$REDIS_PORT" ;;
    postgres)
      need_pg
      pid_alive postgres && { log "postgres already running"; return; }
      check_port_free postgres "$PG_PORT"
      pg_prepare_home
      local data; data="$(pg_home)/data"
      [ -f "$data/PG_VERSION" ] || pg_initdb "$data"
      pg_node_start postgres "$data" "$PG_PORT" "-c synchronous_commit=on"
      pg_ensure_database "$PG_PORT"
      log "postgres ready on 127.0.0.1:$PG_PORT" ;;
    prometheus) prometheus_start ;;
    *) service_start "$1" ;;
  esac
}

topology_stop() { # component
  case "$1" in
    postgres) pg_node_stop postgres "$(pg_home)/data" ;;
    kafka|redis|prometheus) proc_stop "$1" ;;
    *) service_stop "$1" ;;
  esac
}

topology_nodes() { echo "$1"; } # component -> its processes

# The engines' data (Kafka, Redis, PostgreSQL, Prometheus); the secrets and logs stay.
topology_wipe() {
  rm -rf "$STACK_DIR/kafka" "$STACK_DIR/redis" "$STACK_DIR/prometheus" "$RUN"
  pg_wipe
}
