"""Thin typed adapter around redis-py: lazy connections, one typed retryable error.

`REDIS_MODE` picks the client: `standalone` (one server), `cluster` (Redis Cluster; the
URL may list several seed nodes, `redis://:pw@h1:p1,h2:p2/0`, any reachable one is enough)
or `sentinel` (`redis://:pw@s1:p1,s2:p2/0?service=mymaster`, the hosts being sentinels).
Every multi-key script call must keep its keys in one slot (the `{...}` hash tags of
buckets.py and idempotency.py), and no script may run inside a pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    ReadOnlyError,
    RedisClusterException,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.sentinel import Sentinel

from settlement_core.errors import RedisUnavailable

__all__ = ["RedisMode", "RedisUnavailable", "async_client", "sync_client", "translate_errors"]

# What a failover looks like from a client: the connection drops or times out, the cluster
# has no master for a slot yet, a demoted primary refuses writes. Anything else (a script
# error, a wrong type) is a bug and stays fatal.
RETRIABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ClusterDownError,
    TryAgainError,
    MasterDownError,
    ReadOnlyError,
    OSError,
)


class RedisMode(StrEnum):
    STANDALONE = "standalone"
    SENTINEL = "sentinel"
    CLUSTER = "cluster"


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """A parsed REDIS_URL: one or more host:port pairs and the shared credentials."""

    hosts: tuple[tuple[str, int], ...]
    password: str | None
    username: str | None
    db: int
    service: str


def parse_url(url: str) -> RedisTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must start with redis://, not {parts.scheme!r}")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    hosts: list[tuple[str, int]] = []
    for item in hostlist.split(","):
        host, _, port = item.rpartition(":")
        hosts.append((host or item, int(port) if host else 6379))
    db = int(parts.path.strip("/") or 0)
    service = parse_qs(parts.query).get("service", ["mymaster"])[0]
    return RedisTarget(tuple(hosts), unquote(password) or None, unquote(username) or None, db, service)


def _options(timeout_s: float) -> dict[str, Any]:
    return {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "decode_responses": True,
        "health_check_interval": 30,
    }


def sync_client(url: str, timeout_s: float = 5.0, mode: str = RedisMode.STANDALONE) -> redis.Redis:
    """A client for `mode`; redis-py connects on the first command, not here, except that a
    cluster client reads the slot map here and raises RedisClusterException when no node
    answers (translate_errors makes that RedisUnavailable)."""
    mode = RedisMode(mode)
    if mode is RedisMode.STANDALONE:
        return redis.Redis.from_url(url, **_options(timeout_s))
    target = parse_url(url)
    if mode is RedisMode.CLUSTER:
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in target.hosts],  # type: ignore[no-untyped-call]
            password=target.password,
            username=target.username,
            require_full_coverage=True,
            # A failover takes the cluster-node-timeout plus an election; redis-py retries
            # MOVED/ASK/connection errors this often before it gives up to our backoff.
            cluster_error_retry_attempts=3,
            dynamic_startup_nodes=True,
            **_options(timeout_s),
        )
        return cluster  # type: ignore[return-value]  # same command API; typed as Redis for callers
    sentinel = Sentinel(target.hosts, sentinel_kwargs={"password": target.password}, **_options(timeout_s))  # type: ignore[no-untyped-call]
    master = sentinel.master_for(target.service, password=target.password, username=target.username, db=target.db)  # type: ignore[no-untyped-call]
    return cast(redis.Redis, master)


def async_client(url: str, timeout_s: float = 5.0, mode: str = RedisMode.STANDALONE) -> aioredis.Redis:
    mode = RedisMode(mode)
    if mode is RedisMode.STANDALONE:
        return aioredis.Redis.from_url(url, **_options(timeout_s))
    target = parse_url(url)
    if mode is RedisMode.CLUSTER:
        options = _options(timeout_s)
        options.pop("health_check_interval")
        cluster = AsyncRedisCluster(
            startup_nodes=[AsyncClusterNode(h, p) for h, p in target.hosts],
            password=target.password,
            username=target.username,
            require_full_coverage=True,
            cluster_error_retry_attempts=3,
            **options,
        )
        return cluster  # type: ignore[return-value]
    sentinel = AsyncSentinel(target.hosts, sentinel_kwargs={"password": target.password}, **_options(timeout_s))  # type: ignore[no-untyped-call]
    master = sentinel.master_for(target.service, password=target.password, username=target.username, db=target.db)
    return cast(aioredis.Redis, master)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn retriable client errors into RedisUnavailable; works around awaits too."""
    try:
        yield
    except RETRIABLE as exc:
        raise RedisUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except RedisClusterException as exc:
        # Not a RedisError: redis-py's cluster client raises it when no startup node answers
        # while it reloads the slot map (every node unreachable: a partition, all proxies
        # down). The nemesis found it (seed 20261207, a Redis partition): ingest answered
        # 500 and both aggregators exited. Other RedisClusterExceptions (a command without a
        # key, keys in different slots) are bugs and stay fatal.
        if not _cluster_unreachable(exc):
            raise
        raise RedisUnavailable(f"cluster unreachable: {exc}") from exc
    except AttributeError as exc:
        # redis-py's asyncio connection torn down under a concurrent send while it was still
        # connecting: its writer is None ("'NoneType' object has no attribute 'writelines'").
        # The nemesis found it (seed 2026120712, Redis node faults under load: 17 answers
        # 500). Only when raised inside redis-py's connection module: ours stay bugs.
        if not _torn_down_connection(exc):
            raise
        raise RedisUnavailable(f"connection torn down: {exc}") from exc
    except RuntimeError as exc:
        # redis-py's cluster client can write to a socket the event loop has already closed
        # when a node dies mid-request (uvloop: "... TCPTransport closed=True ... the handler
        # is closed"): the connection is gone, exactly like a ConnectionError.
        if not _closed_transport(exc):
            raise
        raise RedisUnavailable(f"connection closed: {exc}") from exc


def _torn_down_connection(exc: AttributeError) -> bool:
    if "'NoneType' object has no attribute" not in str(exc):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", "")) if tb is not None else ""
    return module in ("redis.asyncio.connection", "redis.connection")


def _cluster_unreachable(exc: RedisClusterException) -> bool:
    text = str(exc)
    return text.startswith("Redis Cluster cannot be connected") or text.startswith("All slots are not covered")


def _closed_transport(exc: RuntimeError) -> bool:
    text = str(exc)
    return "Transport" in text and "closed" in text
