# shellcheck shell=bash
# PostgreSQL: one server ("node"), started, readied and stopped the same way in both
# topologies (single.sh: `postgres`; cluster.sh: `pg-primary` and its synchronous standby
# `pg-standby`). Every node lives under pg_home: <name>'s data in its data folder, its log
# in <pg_home>/<name>.log, all sockets in <pg_home>/sock.

need_pg() { if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then die "PostgreSQL server not found (apt-get install -y postgresql)"; fi; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# As root the server runs as the postgres user, which cannot enter a checkout under a 0700
# folder (mktemp -d, a home directory). Then its files live in a folder of their own under
# /var/lib/postgresql, named after STACK_DIR so that two checkouts never share one.
pg_home() {
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    echo "/var/lib/postgresql/settlement-tracker/$(echo -n "$STACK_DIR" | sha256sum | cut -c1-16)"
  else
    echo "$STACK_DIR/postgres"
  fi
}

# The state folder became 0700: as root, data that an older stack.sh kept in
# $STACK_DIR/postgres is no longer reachable for the postgres user; move it (stopped) to
# where pg_home now puts it.
pg_adopt_old_home() {
  local home old="$STACK_DIR/postgres"; home=$(pg_home)
  if [ "$home" != "$old" ] && [ -d "$old" ] && [ ! -e "$home" ]; then
    log "moving PostgreSQL data from $old to $home (the state folder is 0700 now)"
    mkdir -p "$(dirname "$home")"; mv "$old" "$home"
    pg_claim_home
  fi
}

# A pg_home outside the state folder outlives it: a new clone at the same path (CI clones
# into the same folder every run) found the data an earlier clone initialised with a
# password that went with that clone's secrets.env, and every psql failed with "password
# authentication failed for user settlement" (CI, 2026-12-07). Each home names the state
# folder's lifetime it belongs to (STACK_INSTANCE, in <home>/instance); another lifetime's
# data cannot be opened without the lost password, so it is removed.
pg_claim_home() { # the data found at pg_home is this state folder's
  local home; home=$(pg_home)
  if [ -d "$home" ]; then (umask 077; echo "$STACK_INSTANCE" > "$home/instance"); fi
}

pg_drop_orphan_home() {
  local home owner; home=$(pg_home)
  case "$home" in "$STACK_DIR"/*) return 0 ;; esac  # inside the state folder: its own
  [ -d "$home" ] || return 0
  owner=$(cat "$home/instance" 2>/dev/null || true)
  [ "$owner" != "$STACK_INSTANCE" ] || return 0
  local pid; pid=$(head -n 1 "$home/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    die "a PostgreSQL server (pid $pid) runs from $home, data an earlier state folder at $STACK_DIR left behind; stop it ($PG_BIN/pg_ctl -D $home/data stop, as the postgres user) and start again"
  fi
  log "removing $home: PostgreSQL data an earlier state folder at $STACK_DIR left behind (its secrets, and the superuser password with them, are gone)"
  rm -rf "$home"
}

pg_prepare_home() {
  pg_adopt_old_home
  pg_drop_orphan_home
  local home; home=$(pg_home)
  mkdir -p "$home/sock"
  [ -f "$home/instance" ] || pg_claim_home
  chmod 700 "$home"
  [ "$(id -u)" != 0 ] || chown -R postgres:postgres "$home"
}

# Every connection needs the password, Unix sockets included: any local OS user could
# otherwise log in as the superuser. Written before every start, so data initialised
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
  (umask 077; echo "$PG_PASSWORD" > "$pw"); [ "$(id -u)" != 0 ] || chown postgres "$pw"
  as_pg "$PG_BIN/initdb" -D "$data" -U settlement --pwfile="$pw" --auth-local=scram-sha-256 \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >> "$LOGS/postgres.log" 2>&1 \
    || { rm -f "$pw"; die "initdb failed (see $LOGS/postgres.log)"; }
  rm -f "$pw"
}

# A standby: a copy of the primary made with pg_basebackup -R (it follows the primary).
pg_clone() { # data-dir primary-port
  as_pg env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$2" -U settlement \
    -D "$1" -R -X stream -c fast >> "$LOGS/postgres.log" 2>&1 || die "pg_basebackup failed (see $LOGS/postgres.log)"
}

# Loopback and the socket folder only, fsync on; pg_ctl -w returns once it accepts
# connections. The topology adds its options (replication, synchronous commit).
pg_node_start() { # name data-dir port extra-options
  local name="$1" data="$2" port="$3" extra="$4" home; home=$(pg_home)
  local pglog="$home/$name.log"
  pg_hba_write "$data"
  touch "$pglog"; [ "$(id -u)" != 0 ] || chown postgres "$pglog"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$pglog" -w -t "$READY_TIMEOUT" \
    -o "-p $port -k $home/sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on $extra" start >/dev/null \
    || die "$name did not start (see $pglog)"
  record_pid "$name" "$(head -n 1 "$data/postmaster.pid")"
}

pg_ensure_database() { # port: the database `settlement` exists
  local sock; sock="$(pg_home)/sock"
  if ! pg_psql -h "$sock" -p "$1" -U settlement -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='settlement'" | grep -q 1; then
    pg_psql -h "$sock" -p "$1" -U settlement -d postgres -c "CREATE DATABASE settlement" >/dev/null
  fi
}

pg_node_stop() { # name data-dir
  if pid_alive "$1"; then
    as_pg "$PG_BIN/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || kill "$(pid_of "$1")" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
}

pg_wipe() { # every node's data and logs (only a folder pg_home names)
  local home; home=$(pg_home)
  case "$home" in */postgres|/var/lib/postgresql/settlement-tracker/*) rm -rf "$home" ;; esac
}
