# shellcheck shell=bash
# toxiproxy in front of the cluster's PostgreSQL and Redis nodes, when NEMESIS_PROXY=1
# (make nemesis, make test-cluster): the nemesis (tests/nemesis) adds latency, cuts
# bandwidth, times out, resets and partitions the services from an engine through its HTTP
# API on 127.0.0.1:$TOXIPROXY_PORT. What is proxied and what is not: docs/operations.md
# ("Nemesis"). Kafka is not: each broker advertises its own listener to clients, so a proxy
# would need a listener per broker and per path; broker faults are process faults instead.

toxiproxy_proxies() { # name listen upstream, one a line
  local i
  echo "pg-primary 127.0.0.1:$CLUSTER_PG_PROXY_PORT 127.0.0.1:$CLUSTER_PG_PORT"
  echo "pg-standby 127.0.0.1:$((CLUSTER_PG_PROXY_PORT + 1)) 127.0.0.1:$CLUSTER_PG_STANDBY_PORT"
  for i in $REDIS_NODES; do
    echo "redis-$i 127.0.0.1:$(rproxyport "$i") 127.0.0.1:$(rport "$i")"
  done
}

toxiproxy_up() { curl -fsS "http://127.0.0.1:$TOXIPROXY_PORT/version" >/dev/null 2>&1; }

toxiproxy_start() {
  pid_alive toxiproxy && return 0
  need curl "install curl"
  check_port_free toxiproxy "$TOXIPROXY_PORT"
  local server; server=$("$ROOT/deploy/nemesis/ensure-toxiproxy.sh") || die "no toxiproxy server binary"
  nohup "$server" -host 127.0.0.1 -port "$TOXIPROXY_PORT" > "$LOGS/toxiproxy.log" 2>&1 &
  record_pid toxiproxy $!
  wait_ready toxiproxy "$READY_TIMEOUT" toxiproxy_up
  local name listen upstream
  while read -r name listen upstream; do
    curl -fsS -X POST "http://127.0.0.1:$TOXIPROXY_PORT/proxies" -H 'Content-Type: application/json' \
      -d "{\"name\":\"$name\",\"listen\":\"$listen\",\"upstream\":\"$upstream\",\"enabled\":true}" >/dev/null \
      || die "toxiproxy: could not create the proxy $name"
  done < <(toxiproxy_proxies)
  log "toxiproxy on 127.0.0.1:$TOXIPROXY_PORT: PostgreSQL and Redis behind proxies (docs/operations.md)"
}
