# shellcheck shell=bash
# Every setting of the local stack, with its default: ports, folders, versions, limits.
# Sourced by stack.sh after it has read --cluster into CLUSTER; every value can be set in the
# environment instead (README, docs/operations.md).

# Cluster mode has its own state folder and service ports, so it never touches the single
# node; the engines' cluster ports follow below (node i listens on BASE + i - 1).
if [ "$CLUSTER" = 1 ]; then
  STACK_DIR="${STACK_DIR:-$ROOT/.stack-cluster}"
  INGEST_PORT="${INGEST_PORT:-18001}"
  API_PORT="${API_PORT:-18002}"
  AGGREGATE_PORT="${AGGREGATE_PORT:-18003}"
  PROM_PORT="${PROM_PORT:-19090}"
  KAFKA_HEAP="${KAFKA_HEAP:--Xms384m -Xmx384m}"
fi
CLUSTER_KAFKA_PORT="${CLUSTER_KAFKA_PORT:-19092}"
CLUSTER_KAFKA_CONTROLLER_PORT="${CLUSTER_KAFKA_CONTROLLER_PORT:-19192}"
CLUSTER_REDIS_PORT="${CLUSTER_REDIS_PORT:-17001}"
CLUSTER_PG_PORT="${CLUSTER_PG_PORT:-15432}"
CLUSTER_PG_STANDBY_PORT="${CLUSTER_PG_STANDBY_PORT:-15433}"
CLUSTER_REDIS_NODE_TIMEOUT_MS="${CLUSTER_REDIS_NODE_TIMEOUT_MS:-3000}"
# NEMESIS_PROXY=1: the services reach PostgreSQL and Redis through toxiproxy (lib/toxiproxy.sh),
# listening on these ports (PG primary, standby = +1; Redis node i = base + i - 1).
NEMESIS_PROXY="${NEMESIS_PROXY:-0}"
TOXIPROXY_PORT="${TOXIPROXY_PORT:-18474}"
CLUSTER_PG_PROXY_PORT="${CLUSTER_PG_PROXY_PORT:-15532}"
CLUSTER_REDIS_PROXY_PORT="${CLUSTER_REDIS_PROXY_PORT:-17101}"

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
# Lines of each log that `stack.sh logs` prints (make test prints them when the suite fails).
LOG_LINES="${LOG_LINES:-40}"
# Bounded, and never by eviction: totals, fences and idempotency claims are state, not a
# cache, so a full Redis must refuse writes (the services see the error and retry or answer
# 503) rather than silently drop a key. 1 GiB: the 2026-12-03 bench measured about 426 B an
# event all told with PostgreSQL; Redis holds per-bank-day sums and claims, a few hundred MB
# for a year of the demo and a long soak; raise REDIS_MAXMEMORY for more.
REDIS_MAXMEMORY="${REDIS_MAXMEMORY:-1gb}"
# The transparency log's name (docs/receipts.md): first line of every checkpoint and the name
# of its signing key, which is generated with it at first start (a changed origin needs a new
# key: remove TLOG_SIGNING_KEY from the secrets file).
TLOG_ORIGIN="${TLOG_ORIGIN:-settlement-tracker.local/log}"
# shellcheck disable=SC2012  # version folders: plain names
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
VENV="${VENV:-$ROOT/.venv}"
RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/logs"
ENV_FILE="$STACK_DIR/stack.env"
