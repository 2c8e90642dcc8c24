"""Per-bank limits in Redis, so they hold across every ingest worker process.

Two token buckets and one lease set per bank, all under the bank's hash tag (`{bank}`) so a
script's keys share one Redis Cluster slot:

- `rl:{bank}:bytes` - request bytes, charged BEFORE the body is read or parsed, from the
  declared Content-Length (a chunked body, whose size is unknown up front, pays the
  endpoint's maximum). Bytes are what parsing costs: a 4 MB pacs.008 of 40,000
  transactions took ~2 s of CPU to parse and was never charged, because the event bucket
  can only be charged once the events are counted, i.e. after parsing.
- `rl:{bank}` - events, charged once they are counted (after parsing, before any claim or
  produce): one token per event, as the bank's contracted rate (`--rate-limit`/`--burst`)
  is stated in events. Claims, Kafka records and ledger rows all cost per event.
- `inflight:{bank}` - a sorted set of leases (token -> expiry, Redis server clock): at most
  `max_in_flight` requests of a bank are being read or worked on at once, across workers.
  A lease is taken with the byte charge, before the body is read (a slow body holds it),
  released by its owner's token in a `finally`; a lease of a worker that died expires.

Every script reads the clock with Redis TIME inside the script, so concurrent requests and
skewed hosts cannot overdraw a bucket.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from enum import Enum

import redis.asyncio as aioredis

from settlement_core.redis_io import translate_errors

# Shared by both scripts: refill a bucket (KEYS[k]: tokens, ts) and try to take `cost`.
# Sets `allowed` and `wait_ms`, leaves `tokens`/`now` for the caller to store.
_BUCKET = """
local function take(key, rate, burst, cost, now)
  local state = redis.call('HMGET', key, 'tokens', 'ts')
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
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  return allowed, wait_ms
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_TAKE = (
    _BUCKET
    + """
local allowed, wait_ms = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), now)
return {allowed, wait_ms}
"""
)

# KEYS[1] byte bucket, KEYS[2] lease set; ARGV rate, burst, cost, max_in_flight, lease_ms,
# token. The lease count is checked first: a refused request is charged nothing.
_ADMIT = (
    _BUCKET
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {-1, 1000}
end
local allowed, wait_ms = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), now)
if allowed == 1 then
  local lease_ms = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[6])
  redis.call('PEXPIRE', KEYS[2], lease_ms)
end
return {allowed, wait_ms}
"""
)


def event_bucket_key(bank_id: str) -> str:
    return f"rl:{{{bank_id}}}"


def byte_bucket_key(bank_id: str) -> str:
    return f"rl:{{{bank_id}}}:bytes"


def lease_key(bank_id: str) -> str:
    return f"inflight:{{{bank_id}}}"


def admit_keys(bank_id: str) -> list[str]:
    """The keys of one admission call (one cluster slot: the bank's tag)."""
    return [byte_bucket_key(bank_id), lease_key(bank_id)]


class Refusal(Enum):
    NONE = "none"
    RATE = "rate"  # the bucket is short of tokens
    IN_FLIGHT = "in_flight"  # the bank already has its maximum of requests in flight


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_s: int  # whole seconds, at least 1 when refused
    refusal: Refusal = Refusal.NONE


@dataclass(frozen=True, slots=True)
class ByteBudget:
    """The per-bank byte bucket and in-flight cap (ingest settings, the same for every bank)."""

    bytes_per_second: int
    burst_bytes: int
    max_in_flight: int
    lease_ms: int


@dataclass(frozen=True, slots=True)
class Lease:
    bank_id: str
    token: str


def request_cost(content_length: str | None, limit: int) -> int:
    """Bytes to charge before the body is read.

    The declared length when it is within the limit; the limit itself when none is declared
    (chunked: the size is only known after reading, so the worst case is charged); 0 when
    the declared length is over the limit (the request is answered 413 without reading).
    Raises ValueError for a Content-Length that is not 1-19 ASCII digits.
    """
    if content_length is None:
        return limit
    text = content_length.strip()
    # ASCII digits only: str.isdigit() also accepts "١٢٣", and int() of a 5,000-digit text
    # raises. 19 digits exceed any body limit.
    if not text or len(text) > 19 or not all("0" <= c <= "9" for c in text):
        raise ValueError("Content-Length is not a number")
    declared = int(text)
    return declared if declared <= limit else 0


def _decision(allowed: object, wait_ms: object) -> RateDecision:
    if int(str(allowed)) == 1:
        return RateDecision(True, 0)
    if int(str(allowed)) == -1:
        return RateDecision(False, max(1, math.ceil(int(str(wait_ms)) / 1000)), Refusal.IN_FLIGHT)
    return RateDecision(False, max(1, math.ceil(int(str(wait_ms)) / 1000)), Refusal.RATE)


class RateLimiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._take = client.register_script(_TAKE)
        self._admit = client.register_script(_ADMIT)

    async def take(self, bank_id: str, rate_per_second: int, burst: int, cost: int) -> RateDecision:
        """Events: take `cost` tokens from the bank's event bucket."""
        rate = max(1, rate_per_second)
        with translate_errors():
            allowed, wait_ms = await self._take(keys=[event_bucket_key(bank_id)], args=[rate, max(1, burst), cost])
        return _decision(allowed, wait_ms)

    async def admit(self, bank_id: str, budget: ByteBudget, cost: int) -> tuple[RateDecision, Lease | None]:
        """Bytes and a lease, atomically: both or neither."""
        token = secrets.token_hex(8)
        args: list[int | str] = [
            max(1, budget.bytes_per_second),
            max(1, budget.burst_bytes),
            max(0, cost),
            max(1, budget.max_in_flight),
            max(1, budget.lease_ms),
            token,
        ]
        with translate_errors():
            allowed, wait_ms = await self._admit(keys=admit_keys(bank_id), args=args)
        decision = _decision(allowed, wait_ms)
        return decision, Lease(bank_id, token) if decision.allowed else None

    async def release(self, lease: Lease) -> None:
        """Only the owner's token is removed; a lease that already expired is a no-op."""
        with translate_errors():
            await self._client.zrem(lease_key(lease.bank_id), lease.token)
