"""Process entry point: one process, or a supervisor with INGEST_WORKERS worker processes.

Workers each listen on the port with SO_REUSEPORT, so the kernel spreads connections over
them by address hash. (With one shared listening socket, as uvicorn's own `workers` mode
has, the first worker to wake accepts every connection that is waiting: a handful of
long-lived bank connections then all land on one worker while the other idles.)

Prometheus metrics live in a multiprocess directory that the supervisor creates empty and
removes on exit, so /metrics answered by any worker reports the sum over all of them.
Workers ask the kernel to kill them when the supervisor dies (even by SIGKILL), so no
orphan keeps the port; a worker that dies is started again.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client import disable_created_metrics

from settlement_core.http_timeouts import HttpTimeouts, timed_protocol
from settlement_core.logs import configure_logging
from settlement_ingest.app import create_app
from settlement_ingest.metrics import MULTIPROC_ENV
from settlement_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_METRICS_DIR_PREFIX = "settlement-ingest-metrics-"
_UVICORN_OPTIONS = {"log_config": None, "access_log": False, "proxy_headers": False}


def _uvicorn_options() -> dict[str, object]:
    # Header and body read deadlines (settlement_core.http_timeouts, HTTP_*_TIMEOUT_S).
    return {**_UVICORN_OPTIONS, "http": timed_protocol(HttpTimeouts())}


# A worker that dies this soon after its start, this many times in a row, is not a crash to
# recover from but a configuration error: the supervisor gives up.
_EARLY_EXIT_S = 10.0
_EARLY_EXITS_TO_GIVE_UP = 3


def _prepare(settings: IngestSettings) -> None:
    configure_logging(settings.log_level)
    # The *_created series only double the scrape size; the dashboards do not use them.
    disable_created_metrics()  # type: ignore[no-untyped-call]


def _die_with_parent(supervisor_pid: int) -> None:
    """Linux only; elsewhere a killed supervisor may leave workers to be stopped by hand."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        logger.warning("could not tie the worker's life to the supervisor")
    # The supervisor may have died while this process was starting, before the request
    # above: then nobody will send the signal, so leave now.
    if os.getppid() != supervisor_pid:
        os._exit(1)


def _reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _worker(supervisor_pid: int) -> None:
    """Runs in a spawned process; the settings come from the inherited environment."""
    _die_with_parent(supervisor_pid)
    settings = IngestSettings()
    _prepare(settings)
    sock = _reuseport_socket(settings.ingest_host, settings.ingest_port)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **_uvicorn_options()))  # type: ignore[arg-type]
    server.run(sockets=[sock])


def _port_taken(host: str, port: int) -> bool:
    """Someone already serves the port. SO_REUSEPORT would otherwise let our workers share
    it silently with a foreign process of the same user."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _remove_orphaned_metrics_dirs() -> None:
    """Directories left by supervisors that were SIGKILLed (their pid is in the name)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_METRICS_DIR_PREFIX}*-*"):
        pid = path.name.removeprefix(_METRICS_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


class Supervisor:
    """Starts the workers, restarts one that dies, stops them all on SIGTERM/SIGINT."""

    def __init__(self, workers: int) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._wanted = workers
        self._procs: list[tuple[BaseProcess, float]] = []
        self._stopping = False
        self._early_exits = 0

    def _spawn(self, index: int) -> tuple[BaseProcess, float]:
        proc = self._context.Process(target=_worker, args=(os.getpid(),), name=f"ingest-worker-{index}")
        proc.start()
        return proc, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("ingest supervisor stopping", extra={"signal": signum})
        self._stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self._procs = [self._spawn(i) for i in range(self._wanted)]
        while not self._stopping:
            wait([p.sentinel for p, _ in self._procs], timeout=0.5)
            for index, (proc, started) in enumerate(self._procs):
                if proc.is_alive() or self._stopping:
                    continue
                early = time.monotonic() - started < _EARLY_EXIT_S
                self._early_exits = self._early_exits + 1 if early else 0
                logger.error(
                    "ingest worker exited; starting it again", extra={"worker": proc.name, "exitcode": proc.exitcode}
                )
                if self._early_exits >= _EARLY_EXITS_TO_GIVE_UP:
                    logger.error("ingest workers keep exiting at start; giving up")
                    self._stopping = True
                    break
                self._procs[index] = self._spawn(index)
        for proc, _ in self._procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes in-flight requests
        deadline = time.monotonic() + 15
        for proc, _ in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        return 1 if self._early_exits >= _EARLY_EXITS_TO_GIVE_UP else 0


def main() -> None:
    settings = IngestSettings()  # values from the environment
    _prepare(settings)
    if settings.ingest_workers == 1:
        uvicorn.run(create_app(settings), host=settings.ingest_host, port=settings.ingest_port, **_uvicorn_options())  # type: ignore[arg-type]
        return
    if _port_taken(settings.ingest_host, settings.ingest_port):
        logger.error("port already in use", extra={"port": settings.ingest_port})
        sys.exit(f"ingest: {settings.ingest_host}:{settings.ingest_port} is already in use")
    _remove_orphaned_metrics_dirs()
    metrics_dir = tempfile.mkdtemp(prefix=f"{_METRICS_DIR_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = metrics_dir  # inherited by the workers before they import
    logger.info(
        "ingest supervisor",
        extra={"workers": settings.ingest_workers, "port": settings.ingest_port, "metrics_dir": metrics_dir},
    )
    try:
        code = Supervisor(settings.ingest_workers).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    sys.exit(code)
