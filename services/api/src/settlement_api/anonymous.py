"""Requests without a key: charged per client address, and figures computed once per TTL.

`AnonymousGate` is a pure ASGI middleware in front of every route. Every request but
/healthz takes a token from its client address's bucket (rate_limit.py; 429 problem+json
with Retry-After when empty), except a request with an Authorization header to a route
that authenticates API keys (`KEYED`): deps.py charges that one to its key's bucket (or,
when the key fails, to the address). So sending a made-up header buys nothing: /metrics,
/metrics/banks, the docs and static files are charged per address whatever the headers. Then, for the anonymous
figure reads in `CACHEABLE` (the status page and its JSON, /v1/targets, /v1/progress,
the series and the SDMX data and structure messages), the response is served from an
in-process cache keyed by the whole request (path, query string, Accept, If-None-Match) for
ANONYMOUS_CACHE_SECONDS. Concurrent misses
of one key wait for the single computation in flight (single flight), so N anonymous
clients cost one computation per TTL and replica. Only 200 answers are kept; requests with
a key are never cached (their figures depend on the key).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settlement_api.rate_limit import RateLimiter
from settlement_core.problems import PROBLEM_JSON, Problem
from settlement_core.redis_io import RedisUnavailable

CACHEABLE = re.compile(
    r"^(/|/status\.json|/status/series\.json|/v1/targets|/v1/progress|/v1/progress/[^/]+/series"
    # SDMX: a data message is the heaviest anonymous read (82 ms CSV, 222 ms SDMX-ML measured
    # per message); Accept is part of the key, so each format is cached on its own.
    r"|/v1/sdmx/data/[^/]+(/[^/]+)?|/v1/sdmx/structure(/[^/]+(/[^/]+/[^/]+)?)?)$"
)
UNLIMITED = frozenset({"/healthz"})
# Routes whose dependencies authenticate an API key and charge it (deps._principal).
KEYED = re.compile(r"^(/|/status\.json|/status/series\.json|/v1/.*)$")
# Distinct anonymous requests kept at once; as_of variants beyond this evict the oldest.
MAX_ENTRIES = 512

CacheKey = tuple[str, str, bytes, bytes, bytes]


@dataclass(frozen=True, slots=True)
class Cached:
    expires: float
    messages: tuple[Message, ...]


class ResponseCache:
    """Whole responses by request key for `ttl` seconds, with single flight per key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: OrderedDict[CacheKey, Cached] = OrderedDict()
        self._inflight: dict[CacheKey, asyncio.Future[tuple[Message, ...] | None]] = {}

    def get(self, key: CacheKey) -> tuple[Message, ...] | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self._clock():
            return None
        return entry.messages

    def put(self, key: CacheKey, messages: tuple[Message, ...], ttl: float) -> None:
        self._entries[key] = Cached(self._clock() + ttl, messages)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    async def compute(
        self, key: CacheKey, ttl: float, produce: Callable[[], asyncio.Future[tuple[Message, ...]]]
    ) -> tuple[Message, ...]:
        waiting = self._inflight.get(key)
        if waiting is not None:
            shared = await asyncio.shield(waiting)
            if shared is not None:
                return shared
        future: asyncio.Future[tuple[Message, ...] | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            messages = await produce()
        except BaseException:
            future.set_result(None)  # waiters compute for themselves
            raise
        finally:
            self._inflight.pop(key, None)
        if not future.done():
            future.set_result(messages if _status(messages) == 200 else None)
        if _status(messages) == 200:
            self.put(key, messages, ttl)
        return messages


def _status(messages: tuple[Message, ...]) -> int:
    return int(messages[0]["status"]) if messages and messages[0]["type"] == "http.response.start" else 0


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return b""


async def _send_problem(send: Send, problem: Problem, path: str) -> None:
    body = json.dumps(problem.body(path)).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AnonymousGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cache = ResponseCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        keyed = bool(_header(scope, b"authorization"))
        if scope["type"] != "http" or path in UNLIMITED or (keyed and KEYED.fullmatch(path)):
            await self.app(scope, receive, send)
            return
        resources = getattr(scope["app"].state, "resources", None)
        if resources is None:  # before the lifespan ran: nothing to charge against yet
            await self.app(scope, receive, send)
            return
        limiter: RateLimiter = resources.limiter
        client = scope.get("client")
        try:
            await limiter.charge_address(client[0] if client else "unknown")
        except Problem as problem:
            await _send_problem(send, problem, path)
            return
        except RedisUnavailable:
            await _send_problem(
                send, Problem(503, "Service unavailable", "Retry shortly.", headers={"Retry-After": "1"}), path
            )
            return
        ttl = resources.settings.anonymous_cache_seconds
        if keyed or ttl <= 0 or scope.get("method") not in ("GET", "HEAD") or not CACHEABLE.fullmatch(path):
            await self.app(scope, receive, send)
            return
        key: CacheKey = (
            scope["method"],
            path,
            bytes(scope.get("query_string", b"")),
            _header(scope, b"accept"),
            _header(scope, b"if-none-match"),
        )
        messages = self.cache.get(key)
        if messages is None:

            def produce() -> asyncio.Future[tuple[Message, ...]]:
                return asyncio.ensure_future(self._capture(scope, receive))

            messages = await self.cache.compute(key, ttl, produce)
        for message in messages:
            await send(message)

    async def _capture(self, scope: Scope, receive: Receive) -> tuple[Message, ...]:
        captured: list[Message] = []

        async def collect(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, collect)
        return tuple(captured)
