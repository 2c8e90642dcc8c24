"""Idempotency of (bank, event_id) in Redis, so retries and concurrent copies of one event
reach Kafka exactly once.

Each key moves through: absent -> pending (claimed by one request, with the body hash, a
request token and a short TTL) -> done (body hash, long TTL). The claim is one atomic Lua
call for a whole batch (SET NX per key, else report what is there), so of 50 concurrent
identical requests exactly one gets `CLAIMED` and produces. The others see `PENDING` and
poll until it is done (then they are duplicates) or released (then they claim it again). A
failed produce releases only its own claims (token check), so the bank's retry succeeds.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

from settlement_core.redis_io import translate_errors


class ClaimState(StrEnum):
    CLAIMED = "C"  # this request owns the key and must produce, then mark done or release
    DUPLICATE = "D"  # already produced with the same body
    CONFLICT = "X"  # the id is known with a different body
    PENDING = "P"  # another request with the same body is producing right now


_CLAIM = """
local ttl = ARGV[1]
local token = ARGV[2]
local out = {}
for i, key in ipairs(KEYS) do
  local hash = ARGV[i + 2]
  if redis.call('SET', key, 'P|' .. hash .. '|' .. token, 'NX', 'PX', ttl) then
    out[i] = 'C'
  else
    local current = redis.call('GET', key)
    if current == false then
      -- expired between SET and GET: take it now
      redis.call('SET', key, 'P|' .. hash .. '|' .. token, 'PX', ttl)
      out[i] = 'C'
    elseif string.sub(current, 3, 66) ~= hash then
      out[i] = 'X'
    elseif string.sub(current, 1, 1) == 'D' then
      out[i] = 'D'
    else
      out[i] = 'P'
    end
  end
end
return out
"""

_RELEASE = """
local token = ARGV[1]
local released = 0
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current and string.sub(current, 1, 1) == 'P' and
     string.sub(current, -string.len(token)) == token then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
"""


# One command for a whole batch: a pipeline of SETs costs redis-py a packed command each.
_MARK_DONE = """
local ttl = ARGV[1]
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 'D|' .. ARGV[i + 1], 'EX', ttl)
end
return #KEYS
"""


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    key: str
    body_hash: str


def idempotency_key(bank_id: str, event_id: str) -> str:
    # bank ids never contain ':', so the split between bank and event id is unambiguous. The
    # bank is the Redis Cluster hash tag: one request's claims (one bank) share a slot, so
    # one script call may touch them all.
    return f"idem:{{{bank_id}}}:{event_id}"


# A token only has to tell this request's claims from any other's: a random per-process
# prefix plus a counter does that without a syscall per request.
_PROCESS = secrets.token_hex(6)
_COUNTER = itertools.count()


def new_token() -> str:
    return f"{_PROCESS}{next(_COUNTER):x}"


class IdempotencyStore:
    def __init__(self, client: aioredis.Redis, *, pending_ttl_s: int, done_ttl_s: int) -> None:
        self._redis = client
        self._pending_ttl_ms = pending_ttl_s * 1000
        self._done_ttl_s = done_ttl_s
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._mark_done = client.register_script(_MARK_DONE)

    async def claim(self, claims: list[IdempotencyClaim], token: str) -> list[ClaimState]:
        if not claims:
            return []
        with translate_errors():
            states = await self._claim(
                keys=[c.key for c in claims], args=[self._pending_ttl_ms, token, *[c.body_hash for c in claims]]
            )
        return [ClaimState(s) for s in states]

    async def mark_done(self, claims: list[IdempotencyClaim]) -> None:
        if not claims:
            return
        with translate_errors():
            if len(claims) == 1:  # the common single-event request: skip the script overhead
                await self._redis.set(claims[0].key, "D|" + claims[0].body_hash, ex=self._done_ttl_s)
                return
            await self._mark_done(keys=[c.key for c in claims], args=[self._done_ttl_s, *[c.body_hash for c in claims]])

    async def release(self, claims: list[IdempotencyClaim], token: str) -> None:
        if claims:
            with translate_errors():
                await self._release(keys=[c.key for c in claims], args=[token])

    async def settle(self, claims: list[IdempotencyClaim], token: str, timeout_s: float) -> list[ClaimState]:
        """Wait for claims held by other requests to finish, claiming the released ones.

        Returns the final states; claims still pending at the deadline stay PENDING.
        """
        states = await self.claim(claims, token)
        deadline = time.monotonic() + timeout_s
        delay = 0.005
        while True:
            waiting = [i for i, s in enumerate(states) if s is ClaimState.PENDING]
            if not waiting or time.monotonic() >= deadline:
                return states
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
            # Re-running the claim both observes progress and takes over released keys.
            again = await self.claim([claims[i] for i in waiting], token)
            for i, state in zip(waiting, again, strict=True):
                states[i] = state
