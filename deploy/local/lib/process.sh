# shellcheck shell=bash
# Processes this script starts: messages, pid files, readiness waits, stopping, logs.
# Nothing here knows an engine; the engine files and the topologies use these.

die() { echo "stack: $*" >&2; exit 1; }
log() { echo "stack: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_port_free() { # name port
  if port_busy "$2"; then
    die "port $2 (needed by $1) is already in use by another process; free it or set the port variable (see README)"
  fi
}

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

# What became of the process a pid file names: `running`, `stopped` (no pid file: never
# started or stopped by this script), `died <pid>` (gone or a zombie although nobody ran
# `stop`) or `reused <pid>` (the pid now belongs to another process: ours died too).
pid_state() { # name
  local file="$RUN/$1.pid" pid started now
  [ -f "$file" ] || { echo stopped; return; }
  read -r pid started _ < "$file" || true
  [ -n "${pid:-}" ] || { echo stopped; return; }
  now=$(proc_state_and_start "$pid") || { echo "died $pid"; return; }
  case "${now%% *}" in Z|X|x) echo "died $pid"; return ;; esac
  if [ -n "${started:-}" ]; then
    if [ "${now#* }" = "$started" ]; then echo running; else echo "reused $pid"; fi
    return
  fi
  local btime hz began written
  btime=$(awk '/^btime/ {print $2}' /proc/stat); hz=$(getconf CLK_TCK)
  began=$((btime + ${now#* } / hz)); written=$(stat -c %Y "$file")
  if [ "$began" -le $((written + 1)) ] && [ $((written - began)) -lt 300 ]; then echo running; else echo "reused $pid"; fi
}

pid_alive() { [ "$(pid_state "$1")" = running ]; }

pid_of() { local pid _rest; read -r pid _rest < "$RUN/$1.pid"; echo "$pid"; }

record_pid() { # name pid: the pid and its start time, for pid_state
  local now; now=$(proc_state_and_start "$2") || now="? gone"
  echo "$2 ${now#* }" > "$RUN/$1.pid"
}

# Waits until a pid is gone or a zombie (which holds no port, no file lock, no memory).
pid_gone() { local now; now=$(proc_state_and_start "$1") || return 0; case "${now%% *}" in Z|X|x) return 0 ;; esac; return 1; }

# One line of `stack.sh status`. A process that died without `stop` (its pid file is still
# there) says so, with its log: CI printed only a FileNotFoundError on /proc/<pid>/environ
# when a service died during the suite.
status_line() { # name
  local state; state=$(pid_state "$1")
  case "$state" in
    running) echo "$1: running (pid $(pid_of "$1"))" ;;
    stopped) echo "$1: stopped" ;;
    died\ *) echo "$1: stopped (DIED: pid ${state#died } exited without 'stack.sh stop'; log: $(log_file "$1"))" ;;
    reused\ *) echo "$1: stopped (DIED: pid ${state#reused } now belongs to another process; log: $(log_file "$1"))" ;;
  esac
}

# Where a process writes: PostgreSQL beside its data (pg_home), Kafka's running output in
# <name>.log.start (its earlier starts are appended to <name>.log), everything else in $LOGS.
log_file() { # name
  case "$1" in
    postgres|pg-*) echo "$(pg_home)/$1.log" ;;
    kafka|kafka-[0-9]*) echo "$LOGS/$1.log.start" ;;
    *) echo "$LOGS/$1.log" ;;
  esac
}

log_tail() { # name [lines]: the end of its log, headed by its path
  local file; file=$(log_file "$1")
  [ -f "$file" ] || return 0
  echo "==> $file (last ${2:-$LOG_LINES} lines) <=="
  tail -n "${2:-$LOG_LINES}" "$file"
}

wait_for() { # description timeout command...
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then die "$what not ready after ${timeout}s (logs: $LOGS)"; fi
    sleep 0.3
  done
}

# wait_for for a process this script started: a process that exits while starting (a bad
# key, a port taken meanwhile) fails the start at once, with the end of its log, instead of
# after the whole timeout.
wait_ready() { # name timeout command...
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$name"; then
      log_tail "$name" 20 >&2
      die "$name exited while starting (log: $(log_file "$name"))"
    fi
    if [ $SECONDS -ge $deadline ]; then die "$name not ready after ${timeout}s (logs: $LOGS)"; fi
    sleep 0.3
  done
}

# SIGTERM, up to 10 s for it to go, then SIGKILL; only a pid this script recorded and that
# is still the process it started (pid_alive).
proc_stop() { # name
  local name="$1"
  if pid_alive "$name"; then
    local pid; pid=$(pid_of "$name")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_gone "$pid" && break; sleep 0.1; done
    pid_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}
