# shellcheck shell=bash
# The project's own processes, the same in both topologies: ingest, aggregate, api, the
# transparency-log integrator and the demo feed. Each reads stack.env (ensure_env) and gets
# only the secrets it needs.

SERVICES="ingest aggregate api integrator feed"

svc_start() { # name port module...: in a subshell, so one service's environment never leaks into the next
  local name="$1" port="$2"; shift 2
  pid_alive "$name" && { log "$name already running"; return; }
  [ -z "$port" ] || check_port_free "$name" "$port"
  [ -x "$VENV/bin/python" ] || die "virtualenv missing: run 'make install' first"
  set -a
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  set +a
  # Least privilege: stack.env carries the `admin` principal (for settlementctl and the
  # tests); a service gets its own principal, and one that does not use Kafka gets none.
  case "$name" in
    ingest|aggregate) export KAFKA_USERNAME="$name" KAFKA_PASSWORD; KAFKA_PASSWORD="$(kafka_password_of "$name")" ;;
    *) unset KAFKA_USERNAME KAFKA_PASSWORD ;;
  esac
  nohup "$VENV/bin/python" -m "$@" >> "$LOGS/$name.log" 2>&1 &
  record_pid "$name" $!
  if [ -n "$port" ]; then
    wait_ready "$name" "$READY_TIMEOUT" curl -sf "http://127.0.0.1:$port/healthz"
    log "$name ready on 127.0.0.1:$port"
  fi
}

# The integrator has no port: it is ready once it has logged its start (after it parsed its
# keys; a bad key makes it exit, which wait_ready reports with its log).
integrator_start() {
  pid_alive integrator && { log "integrator already running"; return; }
  [ -n "${TLOG_SIGNING_KEY:-}" ] || die "no TLOG_SIGNING_KEY in $STACK_DIR/secrets.env (run 'make install', then start again)"
  local logfile="$LOGS/integrator.log" offset=0
  [ ! -f "$logfile" ] || offset=$(stat -c %s "$logfile")
  (export TLOG_ORIGIN TLOG_SIGNING_KEY TLOG_SALT_KEY; svc_start integrator "" settlement_aggregate.integrator)
  wait_ready integrator "$READY_TIMEOUT" integrator_started "$logfile" "$offset"
  log "integrator running (log $TLOG_ORIGIN)"
}

integrator_started() { tail -c "+$(($2 + 1))" "$1" 2>/dev/null | grep -q "integrator started"; } # logfile offset

service_start() { # name
  # shellcheck disable=SC2086  # FEED_ARGS: several words
  case "$1" in
    # Two intake processes: intake is CPU-bound Python and this lets it use both cores.
    # Ingest signs the receipt promise of every accepted event (docs/receipts.md): the log's keys.
    ingest) (export INGEST_WORKERS="${INGEST_WORKERS:-2}" TLOG_ORIGIN TLOG_SIGNING_KEY TLOG_SALT_KEY; svc_start ingest "$INGEST_PORT" settlement_ingest) ;;
    aggregate) (svc_start aggregate "$AGGREGATE_PORT" settlement_aggregate) ;;
    # The local demo stack answers /v1/targets and /v1/progress without a key (public mode);
    # the product default is off. Set PUBLIC_MODE=false to try the authenticated setup.
    api) (export PUBLIC_MODE="${PUBLIC_MODE:-true}" METRICS_SCRAPE_TOKEN; svc_start api "$API_PORT" settlement_api) ;;
    integrator) integrator_start ;;
    feed) (svc_start feed "" settlement_ctl.demo_feed --ingest "http://127.0.0.1:$INGEST_PORT" ${FEED_ARGS:-}) ;;
    *) die "unknown component '$1'" ;;
  esac
}

service_stop() { # name
  case " $SERVICES " in
    *" $1 "*) proc_stop "$1" ;;
    *) die "unknown component '$1'" ;;
  esac
}
