"""deploy/local/stack.sh: idempotent start/stop, clear errors, only its own pids."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from settlement_client.tlog.checkpoint import open_checkpoint
from settlement_client.tlog.note import VerifierKey
from settlement_core.db.migrate import upgrade
from settlement_core.tlog.keys import SigningKey
from tests.conftest import ROOT, free_port
from tests.support.stack import read_env_file

STACK = ROOT / "deploy" / "local" / "stack.sh"

pytestmark = pytest.mark.integration


def _stack(stack_dir: Path, *args: str, **ports: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACK_DIR": str(stack_dir), **{k: str(v) for k, v in ports.items()}}
    return subprocess.run(
        ["bash", str(STACK), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_redis_start_twice_and_stop_twice_are_safe(tmp_path: Path) -> None:
    port = free_port()
    first = _stack(tmp_path, "start", "redis", REDIS_PORT=port)
    assert first.returncode == 0, first.stderr
    pid = (tmp_path / "run" / "redis.pid").read_text().split()[0]
    try:
        second = _stack(tmp_path, "start", "redis", REDIS_PORT=port)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        assert (tmp_path / "run" / "redis.pid").read_text().split()[0] == pid
        status = _stack(tmp_path, "status", REDIS_PORT=port)
        assert f"redis: running (pid {pid})" in status.stdout
    finally:
        assert _stack(tmp_path, "stop", "redis", REDIS_PORT=port).returncode == 0
    assert _dead(int(pid))
    again = _stack(tmp_path, "stop", REDIS_PORT=port)
    assert again.returncode == 0, again.stderr
    assert "redis: stopped" in _stack(tmp_path, "status").stdout


def test_port_in_use_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _stack(tmp_path, "start", "redis", REDIS_PORT=port)
    assert result.returncode != 0
    assert f"port {port}" in result.stderr
    assert "redis" in result.stderr
    assert not (tmp_path / "run" / "redis.pid").exists()


def test_stop_leaves_foreign_processes_alone(tmp_path: Path) -> None:
    foreign = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "run").mkdir(parents=True)
        result = _stack(tmp_path, "stop")
        assert result.returncode == 0, result.stderr
        assert foreign.poll() is None
    finally:
        foreign.kill()
        foreign.wait()


def test_unknown_component_is_refused(tmp_path: Path) -> None:
    result = _stack(tmp_path, "start", "zookeeper")
    assert result.returncode != 0
    assert "unknown component 'zookeeper'" in result.stderr


# ---------------------------------------------------------------- issue 27: who is running
PR_SET_CHILD_SUBREAPER = 36


@contextmanager
def never_reaping_parent() -> Iterator[None]:
    """Make this test process the parent of the stack's orphans (PR_SET_CHILD_SUBREAPER)
    that does not reap them meanwhile, like an init that never reaps (a container without
    one): a SIGKILLed service then stays a zombie, which `kill -0` reports alive. Here PID 1
    reaps within about 2 s, which made the issue a race; this makes it certain."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        _reap_orphans()


def _reap_orphans() -> None:
    """Reap whatever of the stack's processes died while this process was their parent."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def _dead(pid: int) -> bool:
    """Gone, or a zombie until its parent (PID 1 here) reaps it."""
    try:
        return _state(pid) == "Z"
    except FileNotFoundError:
        return True


def _pid(stack_dir: Path, name: str) -> int:
    return int((stack_dir / "run" / f"{name}.pid").read_text().split()[0])


def _kill_to_zombie(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _state(pid) != "Z":
        assert time.monotonic() < deadline, f"pid {pid} not a zombie after SIGKILL"
        time.sleep(0.05)


def test_a_killed_engine_and_python_service_are_started_again_at_once(tmp_path: Path) -> None:
    """Issue 27: SIGKILL, then at once `stack.sh start <it>`: on the old script the zombie
    counted as running ('already running') and nothing was started."""
    ports = {"REDIS_PORT": free_port(), "PG_PORT": free_port(), "API_PORT": free_port()}
    with never_reaping_parent():
        try:
            up = _stack(tmp_path, "start", "redis", "postgres", **ports)
            assert up.returncode == 0, up.stderr
            env = read_env_file(tmp_path / "stack.env")
            upgrade(env["DATABASE_URL"])
            api = _stack(tmp_path, "start", "api", **ports)
            assert api.returncode == 0, api.stderr
            for name in ("redis", "api"):
                old = _pid(tmp_path, name)
                _kill_to_zombie(old)
                assert f"{name}: stopped" in _stack(tmp_path, "status", **ports).stdout
                again = _stack(tmp_path, "start", name, **ports)
                assert again.returncode == 0, again.stderr
                assert "already running" not in again.stderr
                new = _pid(tmp_path, name)
                assert new != old
                assert _state(new) != "Z"
                assert f"{name}: running (pid {new})" in _stack(tmp_path, "status", **ports).stdout
            assert httpx.get(f"http://127.0.0.1:{ports['API_PORT']}/healthz", timeout=5).status_code == 200
            pong = subprocess.run(
                [
                    "redis-cli",
                    "-p",
                    str(ports["REDIS_PORT"]),
                    "-a",
                    read_env_file(tmp_path / "secrets.env")["REDIS_PASSWORD"],
                    "--no-auth-warning",
                    "ping",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert pong.stdout.strip() == "PONG"
        finally:
            _stack(tmp_path, "stop", **ports)
            _stack(tmp_path, "wipe", **ports)


def _pg_home(stack_dir: Path) -> Path:
    """Where stack.sh keeps PostgreSQL's data as root: outside a 0700 state folder."""
    digest = hashlib.sha256(str(stack_dir).encode()).hexdigest()[:16]
    return Path("/var/lib/postgresql/settlement-tracker") / digest


def _psql(stack_dir: Path, sql: str) -> str:
    env = read_env_file(stack_dir / "stack.env")
    with psycopg.connect(env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True) as conn:
        cursor = conn.execute(sql.encode())
        row = cursor.fetchone() if cursor.description else None
    return str(row[0]) if row else ""


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the data stays inside the state folder")
def test_postgres_data_a_removed_state_folder_left_behind_is_replaced(tmp_path: Path) -> None:
    """CI, 2026-12-07: a fresh clone at the path of an earlier one found that clone's
    PostgreSQL data (kept under /var/lib/postgresql as root), initialised with a password
    that went with the old secrets.env: `make infra` failed on password authentication."""
    state = tmp_path / "state"
    ports = {"PG_PORT": free_port()}
    try:
        first = _stack(state, "start", "postgres", **ports)
        assert first.returncode == 0, first.stderr
        assert (_pg_home(state) / "data" / "PG_VERSION").is_file()
        assert _stack(state, "stop", **ports).returncode == 0
        shutil.rmtree(state)  # the clone is gone; its data is not
        second = _stack(state, "start", "postgres", **ports)
        assert second.returncode == 0, second.stderr
        assert "left behind" in second.stderr
        assert _psql(state, "SELECT current_user") == "settlement"
    finally:
        _stack(state, "stop", **ports)
        _stack(state, "wipe", **ports)


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the data stays inside the state folder")
def test_postgres_data_of_a_state_folder_from_before_instances_is_kept(tmp_path: Path) -> None:
    """A state folder whose secrets predate STACK_INSTANCE owns the data it finds: an
    upgrade must not remove a developer's database."""
    state = tmp_path / "state"
    ports = {"PG_PORT": free_port()}
    try:
        assert _stack(state, "start", "postgres", **ports).returncode == 0
        _psql(state, "CREATE TABLE kept AS SELECT 42 AS answer")
        assert _stack(state, "stop", **ports).returncode == 0
        (_pg_home(state) / "instance").unlink()
        secrets = state / "secrets.env"
        lines = secrets.read_text().splitlines()
        secrets.write_text("".join(f"{line}\n" for line in lines if not line.startswith("STACK_INSTANCE=")))
        assert _stack(state, "env").returncode == 0  # gains STACK_INSTANCE, claims the data
        again = _stack(state, "start", "postgres", **ports)
        assert again.returncode == 0, again.stderr
        assert "left behind" not in again.stderr
        assert _psql(state, "SELECT answer FROM kept") == "42"
    finally:
        _stack(state, "stop", **ports)
        _stack(state, "wipe", **ports)


def test_a_pid_file_naming_an_unrelated_live_process_is_not_running(tmp_path: Path) -> None:
    """Whether its start time disagrees with the pid file's, or (a pid file of the older
    pid-only form) it started after the file was written: not ours, not running, not killed."""
    foreign = subprocess.Popen(["sleep", "60"])
    try:
        run = tmp_path / "run"
        run.mkdir(parents=True)
        (run / "redis.pid").write_text(f"{foreign.pid} 1\n")
        legacy = run / "prometheus.pid"
        legacy.write_text(f"{foreign.pid}\n")
        hour_ago = time.time() - 3600
        os.utime(legacy, (hour_ago, hour_ago))
        status = _stack(tmp_path, "status").stdout
        assert "redis: stopped" in status
        assert "prometheus: stopped" in status
        assert _stack(tmp_path, "stop").returncode == 0
        assert foreign.poll() is None
    finally:
        foreign.kill()
        foreign.wait()


def test_state_folder_and_secret_files_are_owner_only(tmp_path: Path) -> None:
    """Issue 20, M6: the secrets and the env file (it carries passwords) are 0600 in a 0700
    folder; before, secrets.env sat in a world-readable folder and stack.env was 0644."""
    stack_dir = tmp_path / "state"
    assert _stack(stack_dir, "env").returncode == 0
    assert stat.S_IMODE(stack_dir.stat().st_mode) == 0o700
    for name in ("secrets.env", "stack.env"):
        assert stat.S_IMODE((stack_dir / name).stat().st_mode) == 0o600, name
    secrets = read_env_file(stack_dir / "secrets.env")
    assert {"PG_PASSWORD", "REDIS_PASSWORD", "KAFKA_ADMIN_PASSWORD", "KAFKA_INGEST_PASSWORD"} <= secrets.keys()
    assert read_env_file(stack_dir / "stack.env")["KAFKA_USERNAME"] == "admin"


def test_a_kafka_folder_formatted_before_authentication_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Its metadata has no SCRAM users and cannot gain them offline: starting it would give
    a broker nobody can log in to. The script says so instead (before starting Java)."""
    data = tmp_path / "kafka" / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("version=1\ncluster.id=old\nnode.id=1\n")
    result = _stack(tmp_path, "start", "kafka", KAFKA_PORT=free_port(), KAFKA_CONTROLLER_PORT=free_port())
    assert result.returncode != 0
    assert "formatted before Kafka authentication" in result.stderr
    assert f"remove {tmp_path}" in result.stderr
    assert not (tmp_path / "run" / "kafka.pid").exists()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_the_integrator_runs_with_keys_generated_at_first_start_and_only_it_holds_them(tmp_path: Path) -> None:
    """Issue 29 on the local stack: `start integrator` generates the log's signing key (the
    project's generator, named by the origin) and salt key into the 0600 secrets file, the
    integrator gets them (so does ingest, which signs receipt promises; it needs Kafka, so it
    is not started here) and the API does not, and the API then serves a checkpoint that
    verifies with the published key. A second start keeps both keys (the log stays one log)."""
    ports = {"REDIS_PORT": free_port(), "PG_PORT": free_port(), "API_PORT": free_port()}
    try:
        up = _stack(tmp_path, "start", "redis", "postgres", **ports)
        assert up.returncode == 0, up.stderr
        env = read_env_file(tmp_path / "stack.env")
        upgrade(env["DATABASE_URL"])
        started = _stack(tmp_path, "start", "api", "integrator", **ports)
        assert started.returncode == 0, started.stderr
        secrets = read_env_file(tmp_path / "secrets.env")
        assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
        signing = SigningKey.parse(secrets["TLOG_SIGNING_KEY"])
        assert signing.name == "settlement-tracker.local/log"
        assert len(bytes.fromhex(secrets["TLOG_SALT_KEY"])) == 32
        assert not [name for name in env if name.startswith("TLOG_")]
        held = _environ(_pid(tmp_path, "integrator"))
        assert (held["TLOG_SIGNING_KEY"], held["TLOG_SALT_KEY"]) == (
            secrets["TLOG_SIGNING_KEY"],
            secrets["TLOG_SALT_KEY"],
        )
        assert not [name for name in _environ(_pid(tmp_path, "api")) if name.startswith("TLOG_")]
        assert "integrator: running" in _stack(tmp_path, "status", **ports).stdout

        api = f"http://127.0.0.1:{ports['API_PORT']}"
        deadline = time.monotonic() + 60
        while (checkpoint := httpx.get(f"{api}/v1/log/checkpoint", timeout=10)).status_code == 404:
            assert time.monotonic() < deadline, "no checkpoint signed within 60 s"
            time.sleep(0.5)
        assert checkpoint.status_code == 200, checkpoint.text
        keys = [VerifierKey.parse(line) for line in httpx.get(f"{api}/v1/log/keys", timeout=10).text.splitlines()]
        assert keys == [signing.verifier]
        assert open_checkpoint(checkpoint.text, signing.name, keys).size == 0

        assert _stack(tmp_path, "stop", "integrator", **ports).returncode == 0
        assert "integrator: stopped" in _stack(tmp_path, "status", **ports).stdout
        again = _stack(tmp_path, "start", "integrator", **ports)
        assert again.returncode == 0, again.stderr
        assert read_env_file(tmp_path / "secrets.env")["TLOG_SIGNING_KEY"] == secrets["TLOG_SIGNING_KEY"]
    finally:
        _stack(tmp_path, "stop", **ports)


def test_status_names_a_process_that_died_and_logs_prints_its_log(tmp_path: Path) -> None:
    """CI saw a service listed in run/*.pid die during the suite and reported only a
    FileNotFoundError on /proc/<pid>/environ. `status` now tells a process that died (its pid
    file still there, nobody ran `stop`) from one that was stopped, and names its log, which
    `logs` prints; on the old script both read `redis: stopped`. `start` starts it again."""
    port = free_port()
    try:
        up = _stack(tmp_path, "start", "redis", REDIS_PORT=port)
        assert up.returncode == 0, up.stderr
        pid = _pid(tmp_path, "redis")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not _dead(pid):
            assert time.monotonic() < deadline, f"redis pid {pid} alive 10 s after SIGKILL"
            time.sleep(0.05)
        status = _stack(tmp_path, "status", REDIS_PORT=port).stdout
        log_path = tmp_path / "logs" / "redis.log"
        assert f"redis: stopped (DIED: pid {pid} exited without 'stack.sh stop'; log: {log_path})" in status
        assert "kafka: stopped\n" in status  # never started: no pid file, nothing died
        logs = _stack(tmp_path, "logs", "redis", REDIS_PORT=port)
        assert logs.returncode == 0, logs.stderr
        assert f"==> {log_path} (last 40 lines) <==" in logs.stdout
        assert "Ready to accept connections" in logs.stdout
        again = _stack(tmp_path, "start", "redis", REDIS_PORT=port)
        assert again.returncode == 0, again.stderr
        assert f"redis: running (pid {_pid(tmp_path, 'redis')})" in _stack(tmp_path, "status").stdout
    finally:
        assert _stack(tmp_path, "stop", REDIS_PORT=port).returncode == 0
    assert "redis: stopped\n" in _stack(tmp_path, "status").stdout


def test_wipe_refuses_while_running_and_then_removes_the_data_but_not_the_secrets(tmp_path: Path) -> None:
    """`stack.sh wipe` (both topologies): the next start is fresh; the secrets stay."""
    port = free_port()
    try:
        assert _stack(tmp_path, "start", "redis", REDIS_PORT=port).returncode == 0
        refused = _stack(tmp_path, "wipe")
        assert refused.returncode != 0
        assert "redis is still running: stack.sh stop first" in refused.stderr
        assert (tmp_path / "redis" / "redis.conf").exists()
    finally:
        assert _stack(tmp_path, "stop", REDIS_PORT=port).returncode == 0
    secrets = (tmp_path / "secrets.env").read_text()
    wiped = _stack(tmp_path, "wipe")
    assert wiped.returncode == 0, wiped.stderr
    assert not (tmp_path / "redis").exists()
    assert (tmp_path / "secrets.env").read_text() == secrets


def test_engine_config_files_holding_passwords_are_owner_only(tmp_path: Path) -> None:
    """redis.conf carries requirepass: 0600 like the secrets (it was 0644 in the 0700 folder)."""
    port = free_port()
    try:
        assert _stack(tmp_path, "start", "redis", REDIS_PORT=port).returncode == 0
        assert stat.S_IMODE((tmp_path / "redis" / "redis.conf").stat().st_mode) == 0o600
    finally:
        _stack(tmp_path, "stop", REDIS_PORT=port)
