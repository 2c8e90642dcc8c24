"""Per-bank token bucket in Redis, so the limit holds across every ingest process.

The bucket refills at `rate_per_second` up to `burst`; a request costs one token per event
(a batch of 500 costs 500). The whole read-refill-take runs in one Lua call using the Redis
server clock, so concurrent requests and skewed host clocks cannot overdraw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis.asyncio as aioredis

from settlement_core.redis_io import translate_errors

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local wait_ms = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
else
  wait_ms = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait_ms}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: int  # whole seconds, at least 1 when refused


class RateLimiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._take = client.register_script(_TAKE)

    async def take(self, bank_id: str, rate_per_second: int, burst: int, cost: int) -> Decision:
        rate = max(1, rate_per_second)
        with translate_errors():
            allowed, wait_ms = await self._take(keys=[f"rl:{bank_id}"], args=[rate, max(1, burst), cost])
        if int(allowed) == 1:
            return Decision(True, 0)
        return Decision(False, max(1, math.ceil(int(wait_ms) / 1000)))
