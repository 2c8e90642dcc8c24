"""Process entry point: one process, or a uvicorn supervisor with INGEST_WORKERS workers.

With several workers, Prometheus metrics live in a multiprocess directory that this
supervisor creates empty and removes on exit, so /metrics answered by any worker reports
the sum over all of them. Workers ask the kernel to kill them when the supervisor dies
(even by SIGKILL), so no orphan keeps holding the port.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from prometheus_client import disable_created_metrics

from settlement_core.logs import configure_logging
from settlement_ingest.main import create_app
from settlement_ingest.metrics import MULTIPROC_ENV
from settlement_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_METRICS_DIR_PREFIX = "settlement-ingest-metrics-"


def _die_with_parent() -> None:
    """Linux only; elsewhere a killed supervisor may leave workers to be stopped by hand."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        logger.warning("could not tie the worker's life to the supervisor")


def _prepare(settings: IngestSettings) -> None:
    configure_logging(settings.log_level)
    # The *_created series only double the scrape size; the dashboards do not use them.
    disable_created_metrics()  # type: ignore[no-untyped-call]


def worker_app() -> FastAPI:
    """uvicorn factory for worker processes (the settings come from the environment)."""
    _die_with_parent()
    settings = IngestSettings()
    _prepare(settings)
    return create_app(settings)


def _remove_orphaned_metrics_dirs() -> None:
    """Directories left by supervisors that were SIGKILLed (their pid is in the name)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_METRICS_DIR_PREFIX}*-*"):
        pid = path.name.removeprefix(_METRICS_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    settings = IngestSettings()  # values from the environment
    _prepare(settings)
    common = {"host": settings.ingest_host, "port": settings.ingest_port, "log_config": None,
              "access_log": False, "proxy_headers": False}
    if settings.ingest_workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    _remove_orphaned_metrics_dirs()
    metrics_dir = tempfile.mkdtemp(prefix=f"{_METRICS_DIR_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = metrics_dir  # inherited by the workers before they import
    logger.info("ingest supervisor", extra={"workers": settings.ingest_workers,
                                            "metrics_dir": metrics_dir})
    try:
        uvicorn.run("settlement_ingest.serve:worker_app", factory=True,
                    workers=settings.ingest_workers, **common)  # type: ignore[arg-type]
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
