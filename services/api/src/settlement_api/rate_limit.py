"""Read rate limits: token buckets in Redis, per API key and per client address.

One bucket per subject (`key:<kind>:<id>` for an authenticated caller, `addr:<ip>` for a
request without a key or with a key that failed), refilled at `rate` tokens/s up to
`burst`. The check-and-take is one Lua script on the Redis server's clock, so every API
replica shares the same buckets and no clock skew between replicas matters. A refused
request costs one Redis round trip and nothing else.

The client address is the socket peer. Behind a reverse proxy run uvicorn with
--forwarded-allow-ips set to the proxy's address so that the peer is the real client.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis.asyncio as aioredis

from settlement_core.problems import Problem
from settlement_core.redis_io import translate_errors

# KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns {allowed (0/1), retry_after_ms}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
"""

KEY_PREFIX = "stl:api:rl:"


@dataclass(frozen=True, slots=True)
class Quota:
    rate: float  # tokens per second
    burst: int


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int  # whole seconds, at least 1 when refused (RFC 9110 Retry-After)


class RateLimiter:
    def __init__(self, client: aioredis.Redis, per_key: Quota, per_address: Quota) -> None:
        self._client = client
        self._script = client.register_script(_TAKE)
        self.per_key = per_key
        self.per_address = per_address

    async def take(self, subject: str, quota: Quota) -> Verdict:
        with translate_errors():
            allowed, wait_ms = await self._script(keys=[KEY_PREFIX + subject], args=[quota.rate, quota.burst])
        if int(allowed):
            return Verdict(True, 0)
        return Verdict(False, max(1, math.ceil(int(wait_ms) / 1000)))

    async def charge_key(self, kind: str, identity: str) -> None:
        await self._enforce(await self.take(f"key:{kind}:{identity}", self.per_key))

    async def charge_address(self, address: str) -> None:
        await self._enforce(await self.take(f"addr:{address}", self.per_address))

    @staticmethod
    async def _enforce(verdict: Verdict) -> None:
        if not verdict.allowed:
            raise too_many(verdict.retry_after_seconds)


def too_many(retry_after: int) -> Problem:
    return Problem(
        429,
        "Too many requests",
        f"This client's request rate is over its limit; retry after {retry_after} s.",
        "rate-limited",
        headers={"Retry-After": str(retry_after)},
    )
