"""Thin typed adapter around redis-py: lazy connections, one typed retryable error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class RedisUnavailable(RuntimeError):
    """Redis could not be reached or timed out (retryable)."""


def sync_client(url: str, timeout_s: float = 5.0) -> redis.Redis:
    # redis-py connects on the first command, not here.
    return redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True, health_check_interval=30
    )


def async_client(url: str, timeout_s: float = 5.0) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True, health_check_interval=30
    )


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise RedisUnavailable(str(exc)) from exc
