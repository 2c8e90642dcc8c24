"""Real service processes (`python -m settlement_ingest` etc.) started by tests, each on a
free loopback port, stopped when the module's tests are done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port, loopback_url, port_env


@dataclass(frozen=True)
class Served:
    """A started service: its process and where it listens."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return loopback_url(self.port)


class ServiceRunner:
    """Starts real service processes and kills them (SIGKILL on request) afterwards."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def serve(
        self,
        name: str,
        module: str,
        extra_env: dict[str, str] | None = None,
        *,
        wait: bool = True,
    ) -> Served:
        """Starts `python -m <module>` on a free port of its own and, unless wait=False,
        returns once its /healthz answers 200."""
        port = free_port()
        proc = self.start(name, module, None, {**port_env(module, port), **(extra_env or {})})
        served = Served(name, port, proc)
        if wait:
            self.wait_healthy(served)
        return served

    def wait_healthy(self, served: Served) -> None:
        """Until its /healthz answers 200; fails the test, with its log, if it exits first."""
        wait_http(f"{served.url}/healthz", proc=served.proc, name=served.name, logdir=self.logdir)

    def start(
        self,
        name: str,
        module: str,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> subprocess.Popen[bytes]:
        """A process without a port of its own (the integrator), or one whose port variable
        the caller sets; `serve` does both for a service."""
        env = {**os.environ, **self.env, **(extra_env or {})}
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = (self.logdir / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)
        self.procs[name] = proc
        if wait and port is not None:
            wait_http(f"{loopback_url(port)}/healthz", proc=proc, name=name, logdir=self.logdir)
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            self._reap(name, proc)

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for each. One that does not exit is
        killed, so that no test leaves it running, and the test fails naming it."""
        procs, self.procs = self.procs, {}
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        hung: list[str] = []
        for name, proc in procs.items():
            try:
                self._reap(name, proc)
            except AssertionError as exc:
                hung.append(str(exc))
        assert not hung, "\n".join(hung)

    def _reap(self, name: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            log = self.logdir / f"{name}.log"
            tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
            raise AssertionError(
                f"{name} (pid {proc.pid}) did not exit within {timeout_s:.0f} s of its signal; killed. "
                "Its log ends:\n" + "\n".join(tail)
            ) from None


def wait_http(
    url: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    name: str = "service",
    logdir: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = (logdir / f"{name}.log").read_text()[-3000:] if logdir else ""
            pytest.fail(f"{name} exited with {proc.returncode} before becoming healthy:\n{tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not healthy after {timeout}s")
