"""Kafka's own perf tools as the anchors: ProducerPerformance and ConsumerPerformance on the
same broker, with the same topic settings, record size and producer settings as ours."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from bench.harness.processes import run_measured
from bench.reporting.tool_output import (
    ConsumerPerfSummary,
    ProducerPerfSummary,
    parse_consumer_performance,
    parse_producer_performance,
)
from settlement_core.kafka_io import PRODUCER_BATCH_BYTES, KafkaAccess, java_client_properties

# Our EventProducer's settings (settlement_core/kafka_io.py), so the anchor pays for the
# same guarantees and gets the same batching: acks=all, idempotence, a 2 ms linger, our
# batch size and no compression.
PRODUCER_PROPS = (
    "acks=all",
    "enable.idempotence=true",
    "linger.ms=2",
    f"batch.size={PRODUCER_BATCH_BYTES}",
    "compression.type=none",
)
T = TypeVar("T")


def kafka_libs() -> Path:
    version = os.environ.get("KAFKA_VERSION", "4.3.1")
    default = Path.home() / ".cache" / "settlement-tracker" / f"kafka-{version}" / "libs"
    return Path(os.environ.get("KAFKA_LIBS", default))


@dataclass(frozen=True, slots=True)
class ToolRun(Generic[T]):
    summary: T
    cpu_seconds: float
    wall_seconds: float


def _java(main: str, args: list[str], timeout: float) -> tuple[str, float, float]:
    run = run_measured(main, ["java", "-Xms256m", "-Xmx512m", "-cp", f"{kafka_libs()}/*", main, *args], timeout)
    return run.stdout + "\n" + run.stderr, run.cpu_seconds, run.wall_seconds


@contextmanager
def command_config(access: KafkaAccess) -> Iterator[str]:
    """A 0600 properties file with the connection and SASL settings (`--command-config`):
    a password on the command line would be readable by every local user in /proc."""
    with tempfile.NamedTemporaryFile("w", prefix="bench-kafka-", suffix=".properties") as f:
        os.chmod(f.name, 0o600)
        for key, value in java_client_properties(access).items():
            f.write(f"{key}={value}\n")
        f.flush()
        yield f.name


def _perf_tool(
    main: str, access: KafkaAccess, topic: str, records: int, options: list[str], timeout: float
) -> tuple[str, float, float]:
    """One of Kafka's perf tools against `topic` as `access`'s principal; the connection
    and SASL settings go through a 0600 `--command-config` file, never the command line."""
    with command_config(access) as config:
        return _java(
            main,
            [
                "--bootstrap-server",
                access.bootstrap,
                "--command-config",
                config,
                "--topic",
                topic,
                "--num-records",
                str(records),
                *options,
            ],
            timeout,
        )


def producer_performance(
    access: KafkaAccess, topic: str, records: int, size: int, timeout: float = 600
) -> ToolRun[ProducerPerfSummary]:
    out, cpu, wall = _perf_tool(
        "org.apache.kafka.tools.ProducerPerformance",
        access,
        topic,
        records,
        ["--record-size", str(size), "--throughput", "-1", "--command-property", *PRODUCER_PROPS],
        timeout,
    )
    return ToolRun(parse_producer_performance(out), cpu, wall)


def consumer_performance(
    access: KafkaAccess, topic: str, records: int, group: str, timeout: float = 600
) -> ToolRun[ConsumerPerfSummary]:
    out, cpu, wall = _perf_tool(
        "org.apache.kafka.tools.ConsumerPerformance",
        access,
        topic,
        records,
        ["--group", group, "--timeout", "30000", "--command-property", "auto.offset.reset=earliest"],
        timeout,
    )
    return ToolRun(parse_consumer_performance(out), cpu, wall)
