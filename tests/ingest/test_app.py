"""The ingest app's lifespan: its Kafka watcher stops on shutdown even if a cancel is lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest

from settlement_ingest import app as ingest_app
from settlement_ingest.metrics import IngestMetrics
from settlement_ingest.service import Intake
from settlement_ingest.settings import IngestSettings


async def _probe_that_swallows_a_cancel(bootstrap: str) -> bool:
    """What `asyncio.wait_for` does on Python 3.11 when the cancel lands as the connection
    completes: it returns the result and the cancellation is gone."""
    del bootstrap
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return True
    return True


def test_the_kafka_watcher_ends_on_shutdown_even_when_its_probe_swallows_the_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI 2026-12-07: an ingest hung in "Waiting for application shutdown" for 10 minutes
    after SIGTERM. With cancellation alone this watcher loops on and the wait times out."""
    monkeypatch.setattr(ingest_app, "kafka_reachable", _probe_that_swallows_a_cancel)
    recorded: list[int] = []
    gauge = SimpleNamespace(set=recorded.append)
    settings = cast(IngestSettings, SimpleNamespace(kafka_bootstrap="127.0.0.1:1"))
    intake = cast(Intake, SimpleNamespace(kafka_down=False))
    metrics = cast(IngestMetrics, SimpleNamespace(kafka_up=gauge))

    async def shut_down_while_probing() -> None:
        stopping = asyncio.Event()
        watcher = asyncio.create_task(ingest_app._watch_kafka(settings, intake, metrics, stopping))
        await asyncio.sleep(0.05)  # the watcher is inside its probe
        stopping.set()
        watcher.cancel()
        await asyncio.wait_for(asyncio.shield(watcher), 2)

    asyncio.run(shut_down_while_probing())
    assert recorded == [1]  # the swallowed probe's answer was recorded, then the loop ended
