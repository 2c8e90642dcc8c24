#!/usr/bin/env bash
# Starts, stops and reports the project's own local stack: Kafka (KRaft), Redis, PostgreSQL,
# Prometheus, the three services, the transparency-log integrator and the demo feed. Idempotent; stop touches only the
# pids this script started (recorded under $STACK_DIR/run).
#
#   deploy/local/stack.sh start   [component...]   (default: infra)
#   deploy/local/stack.sh stop    [component...]   (default: everything)
#   deploy/local/stack.sh status                   one line a process; one that died says so
#   deploy/local/stack.sh logs    [component...]   the last LOG_LINES (40) lines of each log
#   deploy/local/stack.sh env                      print the generated environment
#   deploy/local/stack.sh ready                    wait until every Kafka partition has its full ISR
#   deploy/local/stack.sh wipe                     remove the engines' data (all stopped first)
#   deploy/local/stack.sh fetch                    fetch the Kafka jars
#
# Components: kafka redis postgres prometheus ingest aggregate api integrator feed
# Groups: infra = kafka redis postgres prometheus; services = ingest aggregate api integrator; all.
#
#   deploy/local/stack.sh --cluster start|stop|status|logs|env|ready|wipe [component...]
# Cluster mode (docs/operations.md): three combined KRaft Kafka nodes (RF 3, min ISR 2), a
# Redis Cluster of 3 masters + 3 replicas, a PostgreSQL primary with a synchronous standby.
# It has its own STACK_DIR (.stack-cluster) and ports, so it never touches the single node.
# `start` defaults to kafka redis postgres there (no Prometheus: the 2-core budget goes to the
# engines); one engine node (kafka-2, redis-5) can be started and stopped on its own.
#
# Two layers: lib/{kafka,redis,postgres,prometheus,services}.sh start, ready and stop one
# node of each engine (with lib/process.sh for pids and lib/env.sh for secrets and
# stack.env); lib/single.sh and lib/cluster.sh say which nodes a topology has and how they
# are configured. This file reads the command and calls the topology.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB="$ROOT/deploy/local/lib"
CLUSTER="${CLUSTER:-0}"
ARGS=()
for a in "$@"; do if [ "$a" = "--cluster" ]; then CLUSTER=1; else ARGS+=("$a"); fi; done
set -- "${ARGS[@]+"${ARGS[@]}"}"

# shellcheck source=lib/settings.sh
. "$LIB/settings.sh"
# shellcheck source=lib/process.sh
. "$LIB/process.sh"
# shellcheck source=lib/env.sh
. "$LIB/env.sh"
# shellcheck source=lib/kafka.sh
. "$LIB/kafka.sh"
# shellcheck source=lib/redis.sh
. "$LIB/redis.sh"
# shellcheck source=lib/postgres.sh
. "$LIB/postgres.sh"
# shellcheck source=lib/prometheus.sh
. "$LIB/prometheus.sh"
# shellcheck source=lib/toxiproxy.sh
. "$LIB/toxiproxy.sh"
# shellcheck source=lib/services.sh
. "$LIB/services.sh"
if [ "$CLUSTER" = 1 ]; then
  MODE="--cluster "
  # shellcheck source=lib/cluster.sh
  . "$LIB/cluster.sh"
else
  MODE=""
  # shellcheck source=lib/single.sh
  . "$LIB/single.sh"
fi

expand() { # components and groups -> components
  local out=() c
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

start_components() { # what `start` starts when told nothing (or, in the cluster, `infra`)
  if [ "$CLUSTER" = 1 ] && { [ $# = 0 ] || [ "$*" = infra ]; }; then
    expand kafka redis postgres
  else
    expand "${@:-infra}"
  fi
}

cmd="${1:-status}"; shift || true
case "$cmd" in
  start)
    ensure_env
    for c in $(start_components "$@"); do topology_start "$c"; done ;;
  stop)
    (umask 077; mkdir -p "$RUN")
    load_secrets
    # Reverse order: feed and services before the infrastructure they use.
    for c in $(expand "${@:-all}" | tr ' ' '\n' | tac); do topology_stop "$c"; done ;;
  status)
    for n in $NODES; do status_line "$n"; done ;;
  logs)
    for c in $(expand "${@:-all}"); do
      for n in $(topology_nodes "$c"); do log_tail "$n"; done
    done ;;
  env) ensure_env; cat "$ENV_FILE" ;;
  ready)
    load_secrets
    wait_for "kafka in-sync replicas" "$READY_TIMEOUT" kafka_isr_full "$(topology_bootstrap)"
    log "every partition has its full ISR" ;;
  wipe)
    for n in $NODES; do pid_alive "$n" && die "$n is still running: stack.sh ${MODE}stop first"; done
    topology_wipe
    log "${MODE:+cluster }data removed" ;;
  fetch) kafka_fetch ;;
  *) die "usage: stack.sh [--cluster] start|stop|status|logs|env|ready|wipe|fetch [component...]" ;;
esac
