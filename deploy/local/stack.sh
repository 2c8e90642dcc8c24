#!/usr/bin/env bash
# Starts, stops and reports the project's own local stack: Kafka (KRaft), Redis, PostgreSQL,
# Prometheus, and the three services plus the demo feed. Idempotent; stop touches only the
# pids this script started (recorded under $STACK_DIR/run).
#
#   deploy/local/stack.sh start   [component...]   (default: infra)
#   deploy/local/stack.sh stop    [component...]   (default: everything)
#   deploy/local/stack.sh status
#   deploy/local/stack.sh env                      print the generated environment
#
# Components: kafka redis postgres prometheus ingest aggregate api feed
# Groups: infra = kafka redis postgres prometheus; services = ingest aggregate api; all.
#
#   deploy/local/stack.sh --cluster start|stop|status|env [component...]
# Cluster mode (docs/operations.md): three combined KRaft Kafka nodes (RF 3, min ISR 2), a
# Redis Cluster of 3 masters + 3 replicas, a PostgreSQL primary with a synchronous standby.
# It has its own STACK_DIR (.stack-cluster) and ports, so it never touches the single node.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="${CLUSTER:-0}"
ARGS=()
for a in "$@"; do if [ "$a" = "--cluster" ]; then CLUSTER=1; else ARGS+=("$a"); fi; done
set -- "${ARGS[@]+"${ARGS[@]}"}"
if [ "$CLUSTER" = 1 ]; then
  STACK_DIR="${STACK_DIR:-$ROOT/.stack-cluster}"
  INGEST_PORT="${INGEST_PORT:-18001}"
  API_PORT="${API_PORT:-18002}"
  AGGREGATE_PORT="${AGGREGATE_PORT:-18003}"
  PROM_PORT="${PROM_PORT:-19090}"
  KAFKA_HEAP="${KAFKA_HEAP:--Xms384m -Xmx384m}"
fi
# Cluster ports: node i (1..3 or 1..6) listens on BASE + i - 1.
CLUSTER_KAFKA_PORT="${CLUSTER_KAFKA_PORT:-19092}"
CLUSTER_KAFKA_CONTROLLER_PORT="${CLUSTER_KAFKA_CONTROLLER_PORT:-19192}"
CLUSTER_REDIS_PORT="${CLUSTER_REDIS_PORT:-17001}"
CLUSTER_PG_PORT="${CLUSTER_PG_PORT:-15432}"
CLUSTER_PG_STANDBY_PORT="${CLUSTER_PG_STANDBY_PORT:-15433}"
CLUSTER_REDIS_NODE_TIMEOUT_MS="${CLUSTER_REDIS_NODE_TIMEOUT_MS:-3000}"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
KAFKA_LIBS="${KAFKA_LIBS:-$HOME/.cache/settlement-tracker/kafka-$KAFKA_VERSION/libs}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx768m}"
REDIS_PORT="${REDIS_PORT:-6379}"
PG_PORT="${PG_PORT:-5432}"
PROM_PORT="${PROM_PORT:-9090}"
INGEST_PORT="${INGEST_PORT:-8001}"
API_PORT="${API_PORT:-8002}"
AGGREGATE_PORT="${AGGREGATE_PORT:-8003}"
READY_TIMEOUT="${READY_TIMEOUT:-90}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
VENV="${VENV:-$ROOT/.venv}"
RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/logs"
ENV_FILE="$STACK_DIR/stack.env"

die() { echo "stack: $*" >&2; exit 1; }
log() { echo "stack: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

check_port_free() { # name port
  if port_busy "$2"; then
    die "port $2 (needed by $1) is already in use by another process; free it or set the port variable (see README)"
  fi
}

wait_for() { # description timeout command...
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then die "$what not ready after ${timeout}s (logs: $LOGS)"; fi
    sleep 0.3
  done
}

redis_pong() { # port: the server answers PONG (not LOADING, not an auth error)
  [ "$(redis-cli -p "$1" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null)" = PONG ]
}

secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

ensure_env() {
  mkdir -p "$RUN" "$LOGS"
  if [ ! -f "$STACK_DIR/secrets.env" ]; then
    umask 077
    { echo "PG_PASSWORD=$(secret)"; echo "REDIS_PASSWORD=$(secret)"; } > "$STACK_DIR/secrets.env"
    umask 022
  fi
  # The key that encrypts bank HMAC secrets at rest (settlement_core.secret_box), added to
  # secrets files made before it existed.
  grep -q '^SECRETS_ENCRYPTION_KEY=' "$STACK_DIR/secrets.env" || (umask 077; echo "SECRETS_ENCRYPTION_KEY=$(secret)$(secret)" >> "$STACK_DIR/secrets.env")
  # shellcheck disable=SC1091
  . "$STACK_DIR/secrets.env"
  if [ "$CLUSTER" = 1 ]; then cluster_env; return; fi
  {
    cat <<ENV
DATABASE_URL=postgresql+psycopg://settlement:$PG_PASSWORD@127.0.0.1:$PG_PORT/settlement
REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0
KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
ENV
    common_env
  } > "$ENV_FILE"
}

# What the services and tests read in both modes: files, ports, where things are.
common_env() {
  cat <<ENV
TARGETS_FILE=$ROOT/seeds/targets.yaml
FX_RATES_FILE=$ROOT/seeds/fx_rates.csv
INGEST_PORT=$INGEST_PORT
API_PORT=$API_PORT
AGGREGATE_PORT=$AGGREGATE_PORT
PROM_PORT=$PROM_PORT
KAFKA_LIBS=$KAFKA_LIBS
STACK_DIR=$STACK_DIR
SECRETS_ENCRYPTION_KEY=$SECRETS_ENCRYPTION_KEY
ENV
}

# ---------------------------------------------------------------- kafka
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

kafka_start() {
  need java "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  pid_alive kafka && { log "kafka already running"; return; }
  check_port_free kafka "$KAFKA_PORT"; check_port_free kafka-controller "$KAFKA_CONTROLLER_PORT"
  kafka_fetch
  local dir="$STACK_DIR/kafka"
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" -g \
      >> "$LOGS/kafka.log" 2>&1 || die "kafka storage format failed (see $LOGS/kafka.log)"
  fi
  : > "$LOGS/kafka.log.start"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" > "$LOGS/kafka.log.start" 2>&1 &
  echo $! > "$RUN/kafka.pid"
  wait_for "kafka" "$READY_TIMEOUT" grep -q "Kafka Server started" "$LOGS/kafka.log.start"
  cat "$LOGS/kafka.log.start" >> "$LOGS/kafka.log"
  log "kafka ready on 127.0.0.1:$KAFKA_PORT"
}

# ---------------------------------------------------------------- redis
redis_start() {
  need redis-server "install it (apt-get install -y redis-server)"
  pid_alive redis && { log "redis already running"; return; }
  check_port_free redis "$REDIS_PORT"
  mkdir -p "$STACK_DIR/redis"
  cat > "$STACK_DIR/redis/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
dir $STACK_DIR/redis
daemonize no
appendonly yes
appendfsync everysec
requirepass $REDIS_PASSWORD
save ""
databases 256
CONF
  nohup redis-server "$STACK_DIR/redis/redis.conf" > "$LOGS/redis.log" 2>&1 &
  echo $! > "$RUN/redis.pid"
  # Not until it answers PONG: while it replays its append-only file it answers LOADING,
  # which redis-cli reports with exit status 0.
  wait_for "redis" "$READY_TIMEOUT" redis_pong "$REDIS_PORT"
  log "redis ready on 127.0.0.1:$REDIS_PORT"
}

# ---------------------------------------------------------------- postgres
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# As root the cluster runs as the postgres user, which cannot enter a checkout under a 0700
# folder (mktemp -d, a home directory). Then the cluster lives in a folder of its own under
# /var/lib/postgresql, named after STACK_DIR so that two checkouts never share one.
pg_home() {
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    echo "/var/lib/postgresql/settlement-tracker/$(echo -n "$STACK_DIR" | sha256sum | cut -c1-16)"
  else
    echo "$STACK_DIR/postgres"
  fi
}

postgres_start() {
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server not found (apt-get install -y postgresql)"
  pid_alive postgres && { log "postgres already running"; return; }
  check_port_free postgres "$PG_PORT"
  local home; home=$(pg_home)
  local data="$home/data" sock="$home/sock" pglog="$home/postgres.log"
  mkdir -p "$home" "$sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  if [ ! -f "$data/PG_VERSION" ]; then
    local pw="$home/pwfile"
    echo "$PG_PASSWORD" > "$pw"; [ "$(id -u)" = 0 ] && chown postgres "$pw"
    as_pg "$PG_BIN/initdb" -D "$data" -U settlement --pwfile="$pw" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >> "$LOGS/postgres.log" 2>&1 \
      || die "initdb failed (see $LOGS/postgres.log)"
    rm -f "$pw"
  fi
  touch "$pglog"; [ "$(id -u)" = 0 ] && chown postgres "$pglog"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$pglog" -w -t "$READY_TIMEOUT" \
    -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on" start >/dev/null \
    || die "postgres did not start (see $pglog)"
  head -n 1 "$data/postmaster.pid" > "$RUN/postgres.pid"
  if ! as_pg "$PG_BIN/psql" -h "$sock" -p "$PG_PORT" -U settlement -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='settlement'" | grep -q 1; then
    as_pg "$PG_BIN/psql" -h "$sock" -p "$PG_PORT" -U settlement -d postgres -c "CREATE DATABASE settlement" >/dev/null
  fi
  log "postgres ready on 127.0.0.1:$PG_PORT"
}

postgres_stop() {
  local data; data="$(pg_home)/data"
  if pid_alive postgres; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || kill "$(cat "$RUN/postgres.pid")" 2>/dev/null || true
  fi
  rm -f "$RUN/postgres.pid"
}

# ---------------------------------------------------------------- prometheus
prometheus_start() {
  need prometheus "install it (apt-get install -y prometheus)"
  pid_alive prometheus && { log "prometheus already running"; return; }
  check_port_free prometheus "$PROM_PORT"
  local dir="$STACK_DIR/prometheus"
  mkdir -p "$dir/data"
  cp "$ROOT"/deploy/prometheus/*.rules.yml "$dir/" 2>/dev/null || true
  sed -e "s/127.0.0.1:8001/127.0.0.1:$INGEST_PORT/; s/127.0.0.1:8002/127.0.0.1:$API_PORT/; s/127.0.0.1:8003/127.0.0.1:$AGGREGATE_PORT/; s/127.0.0.1:9090/127.0.0.1:$PROM_PORT/" \
    "$ROOT/deploy/prometheus/prometheus.yml" > "$dir/prometheus.yml"
  nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle > "$LOGS/prometheus.log" 2>&1 &
  echo $! > "$RUN/prometheus.pid"
  wait_for "prometheus" "$READY_TIMEOUT" curl -sf "http://127.0.0.1:$PROM_PORT/-/ready"
  log "prometheus ready on 127.0.0.1:$PROM_PORT"
}

# ---------------------------------------------------------------- python services
svc_start() { # name port module...
  local name="$1" port="$2"; shift 2
  pid_alive "$name" && { log "$name already running"; return; }
  [ -n "$port" ] && check_port_free "$name" "$port"
  [ -x "$VENV/bin/python" ] || die "virtualenv missing: run 'make install' first"
  set -a; . "$ENV_FILE"; set +a
  nohup "$VENV/bin/python" -m "$@" >> "$LOGS/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
  if [ -n "$port" ]; then
    wait_for "$name" "$READY_TIMEOUT" curl -sf "http://127.0.0.1:$port/healthz"
    log "$name ready on 127.0.0.1:$port"
  fi
}

generic_stop() { # name
  local name="$1"
  if pid_alive "$name"; then
    local pid; pid=$(cat "$RUN/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}


# ================================================================ cluster mode
kport() { echo $((CLUSTER_KAFKA_PORT + $1 - 1)); }
kcport() { echo $((CLUSTER_KAFKA_CONTROLLER_PORT + $1 - 1)); }
rport() { echo $((CLUSTER_REDIS_PORT + $1 - 1)); }

cluster_env() {
  local bootstrap redis_hosts
  bootstrap="127.0.0.1:$(kport 1),127.0.0.1:$(kport 2),127.0.0.1:$(kport 3)"
  redis_hosts="127.0.0.1:$(rport 1),127.0.0.1:$(rport 2),127.0.0.1:$(rport 3)"
  {
    cat <<ENV
DATABASE_URL='postgresql+psycopg://settlement:$PG_PASSWORD@/settlement?host=127.0.0.1:$CLUSTER_PG_PORT&host=127.0.0.1:$CLUSTER_PG_STANDBY_PORT&target_session_attrs=read-write'
REDIS_URL=redis://:$REDIS_PASSWORD@$redis_hosts/0
REDIS_MODE=cluster
REDIS_PASSWORD=$REDIS_PASSWORD
KAFKA_BOOTSTRAP=$bootstrap
TOPIC_REPLICATION_FACTOR=3
TOPIC_MIN_INSYNC_REPLICAS=2
CLUSTER_KAFKA_PORT=$CLUSTER_KAFKA_PORT
CLUSTER_KAFKA_CONTROLLER_PORT=$CLUSTER_KAFKA_CONTROLLER_PORT
CLUSTER_REDIS_PORT=$CLUSTER_REDIS_PORT
CLUSTER_PG_PORT=$CLUSTER_PG_PORT
CLUSTER_PG_STANDBY_PORT=$CLUSTER_PG_STANDBY_PORT
PG_BIN=$PG_BIN
PG_HOME=$(pg_home)
ENV
    common_env
  } > "$ENV_FILE"
}

# One Kafka node; `kafka_node_start i` also restarts a node a test killed (same data).
kafka_node_start() {
  local i="$1" dir="$STACK_DIR/kafka-$1" voters=""
  pid_alive "kafka-$i" && return
  check_port_free "kafka-$i" "$(kport "$i")"; check_port_free "kafka-$i-controller" "$(kcport "$i")"
  for n in 1 2 3; do voters="$voters${voters:+,}$n@127.0.0.1:$(kcport "$n")"; done
  mkdir -p "$dir/data"
  # Internal topics at RF 3 / min ISR 2 too: Kafka's own 3-node example sets them to 1,
  # which would let one dead broker take the group coordinator (and producer ids) away.
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kport "$i"),CONTROLLER://127.0.0.1:$(kcport "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kport "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=12
auto.create.topics.enable=false
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
group.initial.rebalance.delay.ms=0
log.retention.hours=168
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
PROPS
  if [ ! -f "$dir/data/meta.properties" ]; then
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$(cat "$STACK_DIR/kafka-cluster-id")" \
      -c "$dir/server.properties" >> "$LOGS/kafka-$i.log" 2>&1 || die "kafka-$i storage format failed (see $LOGS/kafka-$i.log)"
  fi
  : > "$LOGS/kafka-$i.log.start"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:ParallelGCThreads=1 -XX:CICompilerCount=2 \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" > "$LOGS/kafka-$i.log.start" 2>&1 &
  echo $! > "$RUN/kafka-$i.pid"
}

kafka_node_ready() { grep -q "Kafka Server started" "$LOGS/kafka-$1.log.start"; }

# Every partition of every topic has its full replica set in sync (kafka-python's admin).
kafka_isr_full() {
  "$VENV/bin/python" - "127.0.0.1:$(kport 1),127.0.0.1:$(kport 2),127.0.0.1:$(kport 3)" <<'PY'
import sys
from kafka.admin import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1].split(","), request_timeout_ms=5000)
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

kafka_cluster_start() {
  need java "install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  kafka_fetch
  if [ ! -f "$STACK_DIR/kafka-cluster-id" ]; then
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 > "$STACK_DIR/kafka-cluster-id"
  fi
  for i in 1 2 3; do kafka_node_start "$i"; done
  for i in 1 2 3; do wait_for "kafka-$i" "$READY_TIMEOUT" kafka_node_ready "$i"; done
  wait_for "kafka in-sync replicas" "$READY_TIMEOUT" kafka_isr_full
  for i in 1 2 3; do cat "$LOGS/kafka-$i.log.start" >> "$LOGS/kafka-$i.log"; done
  log "kafka cluster ready on 127.0.0.1:$(kport 1)-$(kport 3) (RF 3, min ISR 2)"
}

redis_node_start() {
  local i="$1" dir="$STACK_DIR/redis-$1"
  pid_alive "redis-$i" && return
  check_port_free "redis-$i" "$(rport "$i")"
  mkdir -p "$dir"
  cat > "$dir/redis.conf" <<CONF
bind 127.0.0.1
port $(rport "$i")
dir $dir
daemonize no
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $CLUSTER_REDIS_NODE_TIMEOUT_MS
cluster-require-full-coverage yes
appendonly yes
appendfsync everysec
requirepass $REDIS_PASSWORD
masterauth $REDIS_PASSWORD
save ""
CONF
  nohup redis-server "$dir/redis.conf" > "$LOGS/redis-$i.log" 2>&1 &
  echo $! > "$RUN/redis-$i.pid"
}

rcli() { local port="$1"; shift; redis-cli -p "$port" -a "$REDIS_PASSWORD" --no-auth-warning "$@"; }

redis_cluster_ok() {
  for i in 1 2 3 4 5 6; do rcli "$(rport "$i")" cluster info 2>/dev/null | grep -q "cluster_state:ok" || return 1; done
}

redis_cluster_start() {
  need redis-server "install it (apt-get install -y redis-server)"
  for i in 1 2 3 4 5 6; do redis_node_start "$i"; done
  for i in 1 2 3 4 5 6; do wait_for "redis-$i" "$READY_TIMEOUT" redis_pong "$(rport "$i")"; done
  if ! rcli "$(rport 1)" cluster info | grep -q "cluster_known_nodes:6"; then
    local nodes=()
    for i in 1 2 3 4 5 6; do nodes+=("127.0.0.1:$(rport "$i")"); done
    redis-cli -a "$REDIS_PASSWORD" --no-auth-warning --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
      >> "$LOGS/redis-cluster.log" 2>&1 || die "redis --cluster create failed (see $LOGS/redis-cluster.log)"
  fi
  wait_for "redis cluster" "$READY_TIMEOUT" redis_cluster_ok
  log "redis cluster ready on 127.0.0.1:$(rport 1)-$(rport 6) (3 masters + 3 replicas)"
}

# PostgreSQL: the primary, then a standby cloned from it with pg_basebackup -R and named in
# synchronous_standby_names, so a commit returns only once the standby has it too.
pg_start_node() { # name data port extra-options
  local name="$1" data="$2" port="$3" extra="$4" home; home=$(pg_home)
  local pglog="$home/$name.log"
  touch "$pglog"; [ "$(id -u)" = 0 ] && chown postgres "$pglog"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$pglog" -w -t "$READY_TIMEOUT" \
    -o "-p $port -k $home/sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c wal_level=replica -c max_wal_senders=10 -c hot_standby=on -c cluster_name=${name//-/_} $extra" start >/dev/null \
    || die "postgres $name did not start (see $pglog)"
  head -n 1 "$data/postmaster.pid" > "$RUN/$name.pid"
}

postgres_cluster_start() {
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server not found (apt-get install -y postgresql)"
  local home; home=$(pg_home)
  local primary="$home/primary" standby="$home/standby"
  mkdir -p "$home/sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  if ! pid_alive pg-primary; then
    check_port_free pg-primary "$CLUSTER_PG_PORT"
    if [ ! -f "$primary/PG_VERSION" ]; then
      local pw="$home/pwfile"
      echo "$PG_PASSWORD" > "$pw"; [ "$(id -u)" = 0 ] && chown postgres "$pw"
      as_pg "$PG_BIN/initdb" -D "$primary" -U settlement --pwfile="$pw" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >> "$LOGS/postgres.log" 2>&1 \
        || die "initdb failed (see $LOGS/postgres.log)"
      rm -f "$pw"
    fi
    pg_start_node pg-primary "$primary" "$CLUSTER_PG_PORT" "-c synchronous_commit=on -c synchronous_standby_names=pg_standby"
  fi
  if ! pid_alive pg-standby; then
    check_port_free pg-standby "$CLUSTER_PG_STANDBY_PORT"
    if [ ! -f "$standby/PG_VERSION" ]; then
      as_pg env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$CLUSTER_PG_PORT" -U settlement \
        -D "$standby" -R -X stream -c fast >> "$LOGS/postgres.log" 2>&1 || die "pg_basebackup failed (see $LOGS/postgres.log)"
    fi
    pg_start_node pg-standby "$standby" "$CLUSTER_PG_STANDBY_PORT" ""
  fi
  if ! as_pg "$PG_BIN/psql" -h "$home/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='settlement'" | grep -q 1; then
    as_pg "$PG_BIN/psql" -h "$home/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -c "CREATE DATABASE settlement" >/dev/null
  fi
  wait_for "postgres synchronous standby" "$READY_TIMEOUT" pg_sync_ok
  log "postgres ready: primary 127.0.0.1:$CLUSTER_PG_PORT, synchronous standby 127.0.0.1:$CLUSTER_PG_STANDBY_PORT"
}

pg_sync_ok() {
  as_pg "$PG_BIN/psql" -h "$(pg_home)/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -tAc \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name='pg_standby'" | grep -q sync
}

pg_node_stop() { # name data
  if pid_alive "$1"; then
    as_pg "$PG_BIN/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || kill "$(cat "$RUN/$1.pid")" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
}

cluster_start_one() {
  case "$1" in
    kafka) kafka_cluster_start ;;
    redis) redis_cluster_start ;;
    postgres) postgres_cluster_start ;;
    kafka-[123]) kafka_node_start "${1#kafka-}"; wait_for "$1" "$READY_TIMEOUT" kafka_node_ready "${1#kafka-}" ;;
    redis-[1-6]) redis_node_start "${1#redis-}"; wait_for "$1" "$READY_TIMEOUT" redis_pong "$(rport "${1#redis-}")" ;;
    prometheus) prometheus_start ;;
    *) start_one "$1" ;;
  esac
}

cluster_stop_one() {
  case "$1" in
    kafka) for i in 3 2 1; do generic_stop "kafka-$i"; done ;;
    redis) for i in 6 5 4 3 2 1; do generic_stop "redis-$i"; done ;;
    postgres) pg_node_stop pg-standby "$(pg_home)/standby"; pg_node_stop pg-primary "$(pg_home)/primary" ;;
    kafka-[123]|redis-[1-6]) generic_stop "$1" ;;
    *) stop_one "$1" ;;
  esac
}

CLUSTER_PIDS="kafka-1 kafka-2 kafka-3 redis-1 redis-2 redis-3 redis-4 redis-5 redis-6 pg-primary pg-standby prometheus ingest aggregate api feed"

start_one() {
  case "$1" in
    kafka) kafka_start ;;
    redis) redis_start ;;
    postgres) postgres_start ;;
    prometheus) prometheus_start ;;
    # Two intake processes: intake is CPU-bound Python and this lets it use both cores.
    ingest) (export INGEST_WORKERS="${INGEST_WORKERS:-2}"; svc_start ingest "$INGEST_PORT" settlement_ingest) ;;
    aggregate) svc_start aggregate "$AGGREGATE_PORT" settlement_aggregate ;;
    # The local demo stack answers /v1/targets and /v1/progress without a key (public mode);
    # the product default is off. Set PUBLIC_MODE=false to try the authenticated setup.
    api) (export PUBLIC_MODE="${PUBLIC_MODE:-true}"; svc_start api "$API_PORT" settlement_api) ;;
    # shellcheck disable=SC2086
    feed) svc_start feed "" settlement_ctl.demo_feed --ingest "http://127.0.0.1:$INGEST_PORT" ${FEED_ARGS:-} ;;
    *) die "unknown component '$1'" ;;
  esac
}

stop_one() {
  case "$1" in
    postgres) postgres_stop ;;
    kafka|redis|prometheus|ingest|aggregate|api|feed) generic_stop "$1" ;;
    *) die "unknown component '$1'" ;;
  esac
}

expand() {
  local out=()
  for c in "$@"; do
    case "$c" in
      infra) out+=(kafka redis postgres prometheus) ;;
      services) out+=(ingest aggregate api) ;;
      all) out+=(kafka redis postgres prometheus ingest aggregate api feed) ;;
      *) out+=("$c") ;;
    esac
  done
  echo "${out[@]}"
}

cmd="${1:-status}"; shift || true
if [ "$CLUSTER" = 1 ]; then
  case "$cmd" in
    start)
      ensure_env
      # No Prometheus by default in cluster mode: the 2-core budget goes to the engines.
      comps="${*:-kafka redis postgres}"; [ "$comps" = infra ] && comps="kafka redis postgres"
      for c in $(expand $comps); do cluster_start_one "$c"; done ;;
    stop)
      mkdir -p "$RUN"
      if [ -f "$STACK_DIR/secrets.env" ]; then . "$STACK_DIR/secrets.env"; fi
      comps=$(expand "${@:-all}")
      for c in $(echo "$comps" | tr ' ' '\n' | tac); do cluster_stop_one "$c"; done ;;
    status)
      for c in $CLUSTER_PIDS; do
        if pid_alive "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped"; fi
      done ;;
    env) ensure_env; cat "$ENV_FILE" ;;
    # Remove the cluster's data (Kafka logs, Redis nodes, both PostgreSQL data dirs) so that
    # the next start is fresh: a promoted standby cannot simply become a standby again.
    wipe)
      for c in $CLUSTER_PIDS; do pid_alive "$c" && die "$c is still running: stack.sh --cluster stop first"; done
      rm -rf "$STACK_DIR"/kafka-[123] "$STACK_DIR"/redis-[1-6] "$STACK_DIR/kafka-cluster-id" "$RUN"
      home=$(pg_home); case "$home" in */postgres|/var/lib/postgresql/settlement-tracker/*) rm -rf "$home" ;; esac
      log "cluster data removed" ;;
    # Every partition (internal topics included, once created) has its full ISR.
    ready) wait_for "kafka in-sync replicas" "$READY_TIMEOUT" kafka_isr_full; log "every partition has its full ISR" ;;
    *) die "usage: stack.sh --cluster start|stop|status|env|ready|wipe [component...]" ;;
  esac
  exit 0
fi
case "$cmd" in
  start)
    ensure_env
    for c in $(expand "${@:-infra}"); do start_one "$c"; done ;;
  stop)
    mkdir -p "$RUN"
    comps=$(expand "${@:-all}")
    # Reverse order: feed and services before the infrastructure they use.
    for c in $(echo "$comps" | tr ' ' '\n' | tac); do stop_one "$c"; done ;;
  status)
    for c in kafka redis postgres prometheus ingest aggregate api feed; do
      if pid_alive "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped"; fi
    done ;;
  env) ensure_env; cat "$ENV_FILE" ;;
  fetch) kafka_fetch ;;
  *) die "usage: stack.sh start|stop|status|env [component...]" ;;
esac
