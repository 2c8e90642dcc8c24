#!/usr/bin/env bash
# Starts, stops and reports the project's own local stack: Kafka (KRaft), Redis, PostgreSQL,
# Prometheus, the three services, the transparency-log integrator and the demo feed. Idempotent; stop touches only the
# pids this script started (recorded under $STACK_DIR/run).
#
#   deploy/local/stack.sh start   [component...]   (default: infra)
#   deploy/local/stack.sh stop    [component...]   (default: everything)
#   deploy/local/stack.sh status
#   deploy/local/stack.sh env                      print the generated environment
#
# Components: kafka redis postgres prometheus ingest aggregate api integrator feed
# Groups: infra = kafka redis postgres prometheus; services = ingest aggregate api integrator; all.
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
# The transparency log's name (docs/receipts.md): first line of every checkpoint and the name
# of its signing key, which is generated with it at first start (a changed origin needs a new
# key: remove TLOG_SIGNING_KEY from the secrets file).
TLOG_ORIGIN="${TLOG_ORIGIN:-settlement-tracker.local/log}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
VENV="${VENV:-$ROOT/.venv}"
RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/logs"
ENV_FILE="$STACK_DIR/stack.env"

die() { echo "stack: $*" >&2; exit 1; }
log() { echo "stack: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A component counts as running only when the pid in its pid file (issue 27)
#  - exists and is not a zombie: `kill -0` succeeds on a killed process that its new parent
#    has not reaped yet (PID 1 here took about 2 s; an init that never reaps, never), and
#  - is the process this script started: the pid file records the start time (field 22 of
#    /proc/<pid>/stat, clock ticks since boot), which a recycled pid cannot repeat.
# A pid file written before this check holds the pid alone: it counts if the process had
# started by the time the file was written, and at most 5 minutes before (a pid given to a
# new process after the file was written is newer than the file).
proc_state_and_start() { # pid -> "state starttime" or nothing
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }  # the command name may contain spaces and parentheses
  # shellcheck disable=SC2086
  set -- $rest
  echo "$1 ${20}"
}

pid_alive() {
  local file="$RUN/$1.pid" pid started now
  [ -f "$file" ] || return 1
  read -r pid started _ < "$file" || true
  [ -n "${pid:-}" ] || return 1
  now=$(proc_state_and_start "$pid") || return 1
  case "${now%% *}" in Z|X|x) return 1 ;; esac
  if [ -n "${started:-}" ]; then [ "${now#* }" = "$started" ]; return; fi
  local btime hz began written
  btime=$(awk '/^btime/ {print $2}' /proc/stat); hz=$(getconf CLK_TCK)
  began=$((btime + ${now#* } / hz)); written=$(stat -c %Y "$file")
  [ "$began" -le $((written + 1)) ] && [ $((written - began)) -lt 300 ]
}

pid_of() { local pid _rest; read -r pid _rest < "$RUN/$1.pid"; echo "$pid"; }

record_pid() { # name pid: the pid and its start time, for pid_alive
  local now; now=$(proc_state_and_start "$2") || now="? gone"
  echo "$2 ${now#* }" > "$RUN/$1.pid"
}

# Waits until a pid is gone or a zombie (which holds no port, no file lock, no memory).
pid_gone() { local now; now=$(proc_state_and_start "$1") || return 0; case "${now%% *}" in Z|X|x) return 0 ;; esac; return 1; }

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

# Generated at first start, one per line, kept in $STACK_DIR/secrets.env (0600 in a 0700
# folder). PG_PASSWORD is the PostgreSQL superuser's (`settlement`, also stack.sh's own psql);
# KAFKA_<PRINCIPAL>_PASSWORD are the SCRAM-SHA-512 passwords the broker is formatted with
# (admin, ingest, aggregate, bench, broker) and KAFKA_CONTROLLER_PASSWORD the PLAIN password
# of the KRaft controller listener. METRICS_SCRAPE_TOKEN is the bearer token of the API's
# GET /metrics/banks (the API and Prometheus read it); SECRETS_ENCRYPTION_KEY encrypts bank
# HMAC secrets at rest (settlement_core.secret_box). A secrets file from an older checkout gains the missing
# lines; existing ones are never changed (rotation: docs/security/kafka-and-local.md).
# TLOG_SALT_KEY (32 bytes, the HMAC key of the receipts' leaf salts) and TLOG_SIGNING_KEY (the
# log's Ed25519 key, `PRIVATE+KEY+<origin>+...`, made by the project's own generator in the
# virtualenv) go to the integrator and to ingest, which signs receipt promises, only
# (docs/receipts.md): the API reads the public keys from the log's tables.
SECRET_NAMES="PG_PASSWORD REDIS_PASSWORD METRICS_SCRAPE_TOKEN SECRETS_ENCRYPTION_KEY KAFKA_ADMIN_PASSWORD KAFKA_INGEST_PASSWORD KAFKA_AGGREGATE_PASSWORD KAFKA_BENCH_PASSWORD KAFKA_BROKER_PASSWORD KAFKA_CONTROLLER_PASSWORD"
# SCRAM principals written into the metadata log at format time.
SCRAM_USERS="admin ingest aggregate bench broker"

ensure_env() {
  mkdir -p "$STACK_DIR"
  chmod 700 "$STACK_DIR"
  mkdir -p "$RUN" "$LOGS"
  local secrets="$STACK_DIR/secrets.env"
  (
    umask 077
    touch "$secrets"
    for name in $SECRET_NAMES; do
      grep -q "^$name=" "$secrets" || echo "$name=$(secret)" >> "$secrets"
    done
    grep -q "^TLOG_SALT_KEY=" "$secrets" || echo "TLOG_SALT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$secrets"
    if ! grep -q "^TLOG_SIGNING_KEY=" "$secrets" && [ -x "$VENV/bin/python" ]; then
      echo "TLOG_SIGNING_KEY=$(tlog_signing_key)" >> "$secrets"
    fi
  )
  chmod 600 "$secrets"
  # shellcheck disable=SC1090
  . "$secrets"
  # stack.env carries the admin and PostgreSQL superuser passwords: owner only, too.
  umask 077
  if [ "$CLUSTER" = 1 ]; then cluster_env; umask 022; return; fi
  {
    cat <<ENV
DATABASE_URL=postgresql+psycopg://settlement:$PG_PASSWORD@127.0.0.1:$PG_PORT/settlement
REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0
KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
ENV
    common_env
  } > "$ENV_FILE"
  chmod 600 "$ENV_FILE"
  umask 022
}

tlog_signing_key() { # a new log signing key named $TLOG_ORIGIN, in its one-line secret form
  TLOG_ORIGIN="$TLOG_ORIGIN" "$VENV/bin/python" -c \
    'import os; from settlement_core.tlog.keys import SigningKey; print(SigningKey.generate(os.environ["TLOG_ORIGIN"]).encode())' \
    || die "could not generate the log signing key (run 'make install' first)"
}

kafka_password_of() { # principal -> its password from the secrets file
  local var; var="KAFKA_$(echo "$1" | tr '[:lower:]' '[:upper:]')_PASSWORD"; echo "${!var}"
}

# What the services and tests read in both modes: files, ports, where things are, and the
# Kafka `admin` principal for settlementctl and the tests. svc_start replaces the Kafka
# credentials with the service's own principal (or none) before it starts a service.
common_env() {
  cat <<ENV
KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KAFKA_USERNAME=admin
KAFKA_PASSWORD=$KAFKA_ADMIN_PASSWORD
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

# Authentication and authorisation of every node (both modes). The broker listener CLIENT
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

# Formats a node's log folder once. A folder formatted before authentication (no marker)
# holds no SCRAM credentials and cannot gain them offline: stop with what to do instead of
# starting a broker nobody can log in to.
kafka_format() { # dir cluster-id log [extra format args]
  local dir="$1" id="$2" logf="$3"; shift 3
  if [ -f "$dir/data/meta.properties" ]; then
    [ -f "$dir/data/scram-formatted" ] && return 0
    die "$dir was formatted before Kafka authentication (no SCRAM users in its metadata). Its topics cannot be converted: stop the stack and remove $STACK_DIR (all local data; for the cluster: stack.sh --cluster wipe), then start again"
  fi
  local args=()
  mapfile -t args < <(kafka_scram_args)
  java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "${args[@]}" "$@" \
    >> "$logf" 2>&1 || die "kafka storage format failed (see $logf)"
  echo "$SCRAM_USERS" > "$dir/data/scram-formatted"
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
listeners=CLIENT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=CLIENT://127.0.0.1:$KAFKA_PORT
$(kafka_security_props)
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
  chmod 600 "$dir/server.properties"  # it holds the broker's and controller's passwords
  local cluster_id=""
  [ -f "$dir/data/meta.properties" ] || \
    cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  kafka_format "$dir" "$cluster_id" "$LOGS/kafka.log" -g
  : > "$LOGS/kafka.log.start"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" > "$LOGS/kafka.log.start" 2>&1 &
  record_pid "kafka" $!
  wait_for "kafka" "$READY_TIMEOUT" grep -q "Kafka Server started" "$LOGS/kafka.log.start"
  cat "$LOGS/kafka.log.start" >> "$LOGS/kafka.log"
  log "kafka ready on 127.0.0.1:$KAFKA_PORT"
}

# ---------------------------------------------------------------- redis
# Bounded, and never by eviction: totals, fences and idempotency claims are state, not a
# cache, so a full Redis must refuse writes (the services see the error and retry or answer
# 503) rather than silently drop a key. 1 GiB: the 2026-12-03 bench measured about 426 B an
# event all told with PostgreSQL; Redis holds per-bank-day sums and claims, a few hundred MB
# for a year of the demo and a long soak; raise REDIS_MAXMEMORY for more.
REDIS_MAXMEMORY="${REDIS_MAXMEMORY:-1gb}"
redis_memory_conf() { printf 'maxmemory %s\nmaxmemory-policy noeviction\n' "$REDIS_MAXMEMORY"; }

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
$(redis_memory_conf)
CONF
  nohup redis-server "$STACK_DIR/redis/redis.conf" > "$LOGS/redis.log" 2>&1 &
  record_pid "redis" $!
  # Not until it answers PONG: while it replays its append-only file it answers LOADING,
  # which redis-cli reports with exit status 0.
  wait_for "redis" "$READY_TIMEOUT" redis_pong "$REDIS_PORT"
  log "redis ready on 127.0.0.1:$REDIS_PORT"
}

# ---------------------------------------------------------------- postgres
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Every connection needs the password, Unix sockets included: any local OS user could
# otherwise log in as the superuser. Written before every start, so a cluster initialised
# with `--auth-local=trust` by an older stack.sh is closed too.
pg_hba_write() { # data-dir
  local hba="$1/pg_hba.conf"
  as_pg tee "$hba" >/dev/null <<HBA
# Written by deploy/local/stack.sh: a password (scram-sha-256) on every connection.
local   all          all                    scram-sha-256
host    all          all    127.0.0.1/32    scram-sha-256
host    all          all    ::1/128         scram-sha-256
local   replication  all                    scram-sha-256
host    replication  all    127.0.0.1/32    scram-sha-256
host    replication  all    ::1/128         scram-sha-256
HBA
}

# stack.sh's own psql, as the superuser with its password from the secrets file.
pg_psql() { as_pg env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" "$@"; }

pg_initdb() { # data-dir: the superuser `settlement` with PG_PASSWORD
  local data="$1" pw; pw="$(dirname "$1")/pwfile"
  (umask 077; echo "$PG_PASSWORD" > "$pw"); [ "$(id -u)" = 0 ] && chown postgres "$pw"
  as_pg "$PG_BIN/initdb" -D "$data" -U settlement --pwfile="$pw" --auth-local=scram-sha-256 \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >> "$LOGS/postgres.log" 2>&1 \
    || { rm -f "$pw"; die "initdb failed (see $LOGS/postgres.log)"; }
  rm -f "$pw"
}

# The state folder became 0700: as root, a cluster that an older stack.sh kept in
# $STACK_DIR/postgres is no longer reachable for the postgres user; move it (stopped) to
# where pg_home now puts it.
pg_adopt_old_home() {
  local home old="$STACK_DIR/postgres"; home=$(pg_home)
  if [ "$home" != "$old" ] && [ -d "$old" ] && [ ! -e "$home" ]; then
    log "moving PostgreSQL data from $old to $home (the state folder is 0700 now)"
    mkdir -p "$(dirname "$home")"; mv "$old" "$home"
  fi
}

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
  pg_adopt_old_home
  local home; home=$(pg_home)
  local data="$home/data" sock="$home/sock" pglog="$home/postgres.log"
  mkdir -p "$home" "$sock"
  chmod 700 "$home"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  [ -f "$data/PG_VERSION" ] || pg_initdb "$data"
  pg_hba_write "$data"
  touch "$pglog"; [ "$(id -u)" = 0 ] && chown postgres "$pglog"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$pglog" -w -t "$READY_TIMEOUT" \
    -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on" start >/dev/null \
    || die "postgres did not start (see $pglog)"
  record_pid postgres "$(head -n 1 "$data/postmaster.pid")"
  if ! pg_psql -h "$sock" -p "$PG_PORT" -U settlement -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='settlement'" | grep -q 1; then
    pg_psql -h "$sock" -p "$PG_PORT" -U settlement -d postgres -c "CREATE DATABASE settlement" >/dev/null
  fi
  log "postgres ready on 127.0.0.1:$PG_PORT"
}

postgres_stop() {
  local data; data="$(pg_home)/data"
  if pid_alive postgres; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || kill "$(pid_of postgres)" 2>/dev/null || true
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
  # Loopback only and no lifecycle API (no /-/reload, no /-/quit for any local user):
  # a changed configuration takes effect with `stack.sh stop prometheus; stack.sh start prometheus`.
  # h-api: the api-banks job reads the scrape token from this file (0600, beside the config).
  (umask 077; printf '%s\n' "$METRICS_SCRAPE_TOKEN" > "$dir/metrics_scrape_token")
  nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" > "$LOGS/prometheus.log" 2>&1 &
  record_pid "prometheus" $!
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
  # Least privilege: stack.env carries the `admin` principal (for settlementctl and the
  # tests); a service gets its own principal, and one that does not use Kafka gets none.
  case "$name" in
    ingest|aggregate) KAFKA_USERNAME="$name"; KAFKA_PASSWORD="$(kafka_password_of "$name")" ;;
    *) unset KAFKA_USERNAME KAFKA_PASSWORD ;;
  esac
  nohup "$VENV/bin/python" -m "$@" >> "$LOGS/$name.log" 2>&1 &
  record_pid "$name" $!
  if [ -n "$port" ]; then
    wait_for "$name" "$READY_TIMEOUT" curl -sf "http://127.0.0.1:$port/healthz"
    log "$name ready on 127.0.0.1:$port"
  fi
}

# The integrator has no port: it is ready once it has logged its start (after it parsed its
# keys; a bad key makes it exit, which wait_for reports with its log).
integrator_start() {
  pid_alive integrator && { log "integrator already running"; return; }
  [ -n "${TLOG_SIGNING_KEY:-}" ] || die "no TLOG_SIGNING_KEY in $STACK_DIR/secrets.env (run 'make install', then start again)"
  local logfile="$LOGS/integrator.log" offset=0
  [ -f "$logfile" ] && offset=$(stat -c %s "$logfile")
  (export TLOG_ORIGIN TLOG_SIGNING_KEY TLOG_SALT_KEY; svc_start integrator "" settlement_aggregate.integrator)
  local deadline=$((SECONDS + READY_TIMEOUT))
  until tail -c "+$((offset + 1))" "$logfile" 2>/dev/null | grep -q "integrator started"; do
    pid_alive integrator || die "integrator exited (log: $logfile)"
    [ $SECONDS -ge $deadline ] && die "integrator not ready after ${READY_TIMEOUT}s (log: $logfile)"
    sleep 0.3
  done
  log "integrator running (log $TLOG_ORIGIN)"
}

generic_stop() { # name
  local name="$1"
  if pid_alive "$name"; then
    local pid; pid=$(pid_of "$name")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_gone "$pid" && break; sleep 0.1; done
    pid_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
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
  chmod 600 "$ENV_FILE"
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
listeners=CLIENT://127.0.0.1:$(kport "$i"),CONTROLLER://127.0.0.1:$(kcport "$i")
advertised.listeners=CLIENT://127.0.0.1:$(kport "$i")
$(kafka_security_props)
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
# Three JVMs start at once on a shared 2-core machine: at a load average of 50 the
# controllers took over 60 s (the default) to let the brokers catch up, and all three
# brokers gave up with "fatal error while waiting for the controller to acknowledge that
# we are caught up". Five minutes, like READY_TIMEOUT's worst case.
initial.broker.registration.timeout.ms=300000
PROPS
  chmod 600 "$dir/server.properties"  # it holds the broker's and controller's passwords
  kafka_format "$dir" "$(cat "$STACK_DIR/kafka-cluster-id")" "$LOGS/kafka-$i.log"
  : > "$LOGS/kafka-$i.log.start"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:ParallelGCThreads=1 -XX:CICompilerCount=2 \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" > "$LOGS/kafka-$i.log.start" 2>&1 &
  record_pid "kafka-$i" $!
}

kafka_node_ready() { grep -q "Kafka Server started" "$LOGS/kafka-$1.log.start"; }

# Every partition of every topic has its full replica set in sync (kafka-python's admin).
kafka_isr_full() {
  KAFKA_BOOTSTRAP="127.0.0.1:$(kport 1),127.0.0.1:$(kport 2),127.0.0.1:$(kport 3)" \
    KAFKA_USERNAME=admin KAFKA_PASSWORD="$KAFKA_ADMIN_PASSWORD" "$VENV/bin/python" - <<'PY'
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
$(redis_memory_conf)
CONF
  nohup redis-server "$dir/redis.conf" > "$LOGS/redis-$i.log" 2>&1 &
  record_pid "redis-$i" $!
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
  record_pid "$name" "$(head -n 1 "$data/postmaster.pid")"
}

postgres_cluster_start() {
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server not found (apt-get install -y postgresql)"
  pg_adopt_old_home
  local home; home=$(pg_home)
  local primary="$home/primary" standby="$home/standby"
  mkdir -p "$home/sock"
  chmod 700 "$home"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  if ! pid_alive pg-primary; then
    check_port_free pg-primary "$CLUSTER_PG_PORT"
    [ -f "$primary/PG_VERSION" ] || pg_initdb "$primary"
    pg_hba_write "$primary"
    pg_start_node pg-primary "$primary" "$CLUSTER_PG_PORT" "-c synchronous_commit=on -c synchronous_standby_names=pg_standby"
  fi
  if ! pid_alive pg-standby; then
    check_port_free pg-standby "$CLUSTER_PG_STANDBY_PORT"
    if [ ! -f "$standby/PG_VERSION" ]; then
      as_pg env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$CLUSTER_PG_PORT" -U settlement \
        -D "$standby" -R -X stream -c fast >> "$LOGS/postgres.log" 2>&1 || die "pg_basebackup failed (see $LOGS/postgres.log)"
    fi
    pg_hba_write "$standby"
    pg_start_node pg-standby "$standby" "$CLUSTER_PG_STANDBY_PORT" ""
  fi
  if ! pg_psql -h "$home/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='settlement'" | grep -q 1; then
    pg_psql -h "$home/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -c "CREATE DATABASE settlement" >/dev/null
  fi
  wait_for "postgres synchronous standby" "$READY_TIMEOUT" pg_sync_ok
  log "postgres ready: primary 127.0.0.1:$CLUSTER_PG_PORT, synchronous standby 127.0.0.1:$CLUSTER_PG_STANDBY_PORT"
}

pg_sync_ok() {
  pg_psql -h "$(pg_home)/sock" -p "$CLUSTER_PG_PORT" -U settlement -d postgres -tAc \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name='pg_standby'" | grep -q sync
}

pg_node_stop() { # name data
  if pid_alive "$1"; then
    as_pg "$PG_BIN/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || kill "$(pid_of "$1")" 2>/dev/null || true
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

CLUSTER_PIDS="kafka-1 kafka-2 kafka-3 redis-1 redis-2 redis-3 redis-4 redis-5 redis-6 pg-primary pg-standby prometheus ingest aggregate api integrator feed"

start_one() {
  case "$1" in
    kafka) kafka_start ;;
    redis) redis_start ;;
    postgres) postgres_start ;;
    prometheus) prometheus_start ;;
    # Two intake processes: intake is CPU-bound Python and this lets it use both cores.
    # Ingest signs the receipt promise of every accepted event (docs/receipts.md): the log's keys.
    ingest) (export INGEST_WORKERS="${INGEST_WORKERS:-2}" TLOG_ORIGIN TLOG_SIGNING_KEY TLOG_SALT_KEY; svc_start ingest "$INGEST_PORT" settlement_ingest) ;;
    aggregate) svc_start aggregate "$AGGREGATE_PORT" settlement_aggregate ;;
    # The local demo stack answers /v1/targets and /v1/progress without a key (public mode);
    # the product default is off. Set PUBLIC_MODE=false to try the authenticated setup.
    api) (export PUBLIC_MODE="${PUBLIC_MODE:-true}" METRICS_SCRAPE_TOKEN; svc_start api "$API_PORT" settlement_api) ;;
    integrator) integrator_start ;;
    # shellcheck disable=SC2086
    feed) svc_start feed "" settlement_ctl.demo_feed --ingest "http://127.0.0.1:$INGEST_PORT" ${FEED_ARGS:-} ;;
    *) die "unknown component '$1'" ;;
  esac
}

stop_one() {
  case "$1" in
    postgres) postgres_stop ;;
    kafka|redis|prometheus|ingest|aggregate|api|integrator|feed) generic_stop "$1" ;;
    *) die "unknown component '$1'" ;;
  esac
}

expand() {
  local out=()
  for c in "$@"; do
    case "$c" in
      infra) out+=(kafka redis postgres prometheus) ;;
      services) out+=(ingest aggregate api integrator) ;;
      all) out+=(kafka redis postgres prometheus ingest aggregate api integrator feed) ;;
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
        if pid_alive "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: stopped"; fi
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
    ready) . "$STACK_DIR/secrets.env"; wait_for "kafka in-sync replicas" "$READY_TIMEOUT" kafka_isr_full; log "every partition has its full ISR" ;;
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
    for c in kafka redis postgres prometheus ingest aggregate api integrator feed; do
      if pid_alive "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: stopped"; fi
    done ;;
  env) ensure_env; cat "$ENV_FILE" ;;
  fetch) kafka_fetch ;;
  *) die "usage: stack.sh start|stop|status|env [component...]" ;;
esac
