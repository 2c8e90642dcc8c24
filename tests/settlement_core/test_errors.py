"""Adapters translate only connection errors and errors the client marks retriable."""

from __future__ import annotations

import psycopg
import pytest
from kafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from redis.exceptions import ClusterDownError, ReadOnlyError, RedisClusterException, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from settlement_core.db import engine as db
from settlement_core.errors import KafkaUnavailable, LedgerUnavailable, RedisUnavailable, Retryable
from settlement_core.kafka_io import is_retriable
from settlement_core.kafka_io import translate_errors as kafka_errors
from settlement_core.redis_io import translate_errors as redis_errors


def test_the_hierarchy_is_one_family() -> None:
    from settlement_core.errors import ConcurrentLedgerWrite

    for cls in (KafkaUnavailable, RedisUnavailable, LedgerUnavailable, ConcurrentLedgerWrite):
        assert issubclass(cls, Retryable)


@pytest.mark.parametrize("exc", [KafkaConnectionError(), KafkaTimeoutError(), NotLeaderForPartitionError()])
def test_retriable_kafka_errors_become_kafka_unavailable(exc: Exception) -> None:
    assert is_retriable(exc)
    with pytest.raises(KafkaUnavailable), kafka_errors("step"):
        raise exc


@pytest.mark.parametrize("exc", [TopicAuthorizationFailedError(), MessageSizeTooLargeError()])
def test_non_retriable_kafka_errors_stay_fatal(exc: Exception) -> None:
    assert not is_retriable(exc)
    with pytest.raises(type(exc)), kafka_errors("step"):
        raise exc


@pytest.mark.parametrize(
    "exc", [RedisConnectionError("gone"), ClusterDownError("down"), TryAgainError("again"), ReadOnlyError("ro")]
)
def test_redis_connection_and_failover_errors_become_redis_unavailable(exc: Exception) -> None:
    with pytest.raises(RedisUnavailable), redis_errors():
        raise exc


def test_a_write_to_a_transport_closed_under_the_client_is_redis_unavailable() -> None:
    # Seen in the cluster suite when a Redis master was SIGKILLed mid-request (uvloop).
    closed = "unable to perform operation on <TCPTransport closed=True reading=False 0x5632>; the handler is closed"
    with pytest.raises(RedisUnavailable), redis_errors():
        raise RuntimeError(closed)
    with pytest.raises(RuntimeError, match="unrelated"), redis_errors():
        raise RuntimeError("unrelated bug")


@pytest.mark.parametrize(
    "message",
    [
        "Redis Cluster cannot be connected. Please provide at least one reachable node: Error 111 connecting to "
        "127.0.0.1:17101. Connection refused.",
        "All slots are not covered after query all startup_nodes. 5461 of 16384 covered...",
    ],
)
def test_an_unreachable_redis_cluster_is_redis_unavailable(message: str) -> None:
    """Nemesis seed 20261207 (a Redis partition): redis-py raised this (not a RedisError)
    while reloading the slot map; ingest answered 500 and both aggregators exited."""
    with pytest.raises(RedisUnavailable), redis_errors():
        raise RedisClusterException(message)


def _raise_in_module(module: str) -> None:
    """Runs `writer.writelines(...)` on a None writer as code of `module` (the frame's
    module name is what the translation checks)."""
    exec(compile("writer = None\nwriter.writelines([b'x'])", "<send>", "exec"), {"__name__": module})


def test_a_connection_torn_down_inside_redis_py_is_redis_unavailable() -> None:
    """Nemesis seed 2026120712: redis-py's asyncio connection had no writer any more
    ('NoneType' object has no attribute 'writelines'); ingest answered 500 (17 items)."""
    with pytest.raises(RedisUnavailable), redis_errors():
        _raise_in_module("redis.asyncio.connection")


def test_the_same_attribute_error_in_our_code_stays_fatal() -> None:
    with pytest.raises(AttributeError), redis_errors():
        _raise_in_module("settlement_ingest.ratelimit")


def test_other_redis_cluster_errors_stay_fatal() -> None:
    with pytest.raises(RedisClusterException), redis_errors():
        raise RedisClusterException("No way to dispatch this command to Redis Cluster. Missing key.")


def test_an_unanswered_outage_is_a_503_problem() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from settlement_core.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise RedisUnavailable("ConnectionError: refused")

    answer = TestClient(app, raise_server_exceptions=False).get("/down")
    assert (answer.status_code, answer.headers["content-type"]) == (503, "application/problem+json")
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["status"] == 503


def test_a_redis_script_error_stays_fatal() -> None:
    with pytest.raises(ResponseError), redis_errors():
        raise ResponseError("ERR Error running script")


def test_database_connection_errors_become_ledger_unavailable() -> None:
    with pytest.raises(LedgerUnavailable), db.translate_errors():
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))
    with pytest.raises(LedgerUnavailable), db.translate_errors():
        raise psycopg.OperationalError("connection refused")


def test_a_constraint_violation_stays_fatal() -> None:
    with pytest.raises(IntegrityError), db.translate_errors():
        raise IntegrityError("INSERT", {}, psycopg.IntegrityError("duplicate key"))
