# shellcheck shell=bash
# Prometheus (one in both topologies; cluster.sh starts it only when asked), scraping the
# three services on this stack's ports.

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
  # The api-banks job reads the scrape token from this file (0600, beside the config).
  (umask 077; printf '%s\n' "$METRICS_SCRAPE_TOKEN" > "$dir/metrics_scrape_token")
  nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" > "$LOGS/prometheus.log" 2>&1 &
  record_pid "prometheus" $!
  wait_ready prometheus "$READY_TIMEOUT" curl -sf "http://127.0.0.1:$PROM_PORT/-/ready"
  log "prometheus ready on 127.0.0.1:$PROM_PORT"
}
