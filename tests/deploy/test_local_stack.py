"""deploy/local/stack.sh: idempotent start/stop, clear errors, only its own pids."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

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
    assert not Path(f"/proc/{pid}").exists()
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
