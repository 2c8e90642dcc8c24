# shellcheck shell=bash
# Redis: one node, started, readied and stopped the same way in both topologies (single.sh:
# one server with 256 databases; cluster.sh: Redis Cluster nodes, which it then joins).

redis_memory_conf() { printf 'maxmemory %s\nmaxmemory-policy noeviction\n' "$REDIS_MAXMEMORY"; }

# Loopback only, a password, append-only file, bounded memory without eviction
# (settings.sh); the topology's conf function adds its lines. State in $STACK_DIR/<name>.
redis_node_start() { # name port conf-function
  local name="$1" port="$2" conf="$3" dir="$STACK_DIR/$1"
  need redis-server "install it (apt-get install -y redis-server)"
  check_port_free "$name" "$port"
  mkdir -p "$dir"
  (
    umask 077  # it holds the password
    {
      cat <<CONF
bind 127.0.0.1
port $port
dir $dir
daemonize no
appendonly yes
appendfsync everysec
requirepass $REDIS_PASSWORD
save ""
CONF
      redis_memory_conf
      "$conf"
    } > "$dir/redis.conf"
  )
  chmod 600 "$dir/redis.conf"
  nohup redis-server "$dir/redis.conf" > "$LOGS/$name.log" 2>&1 &
  record_pid "$name" $!
}

rcli() { local port="$1"; shift; redis-cli -p "$port" -a "$REDIS_PASSWORD" --no-auth-warning "$@"; }

redis_pong() { # port: the server answers PONG (not LOADING, not an auth error)
  [ "$(rcli "$1" ping 2>/dev/null)" = PONG ]
}

# Not until it answers PONG: while it replays its append-only file it answers LOADING,
# which redis-cli reports with exit status 0.
redis_node_wait() { wait_ready "$1" "$READY_TIMEOUT" redis_pong "$2"; } # name port
