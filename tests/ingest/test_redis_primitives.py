"""The idempotency claims and the token bucket against the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis.asyncio as aioredis

from settlement_core.redis_io import async_client
from settlement_ingest.idempotency import ClaimState, IdempotencyClaim, IdempotencyStore, new_token
from settlement_ingest.ratelimit import ByteBudget, RateLimiter, lease_key

pytestmark = pytest.mark.integration

T = TypeVar("T")
H1, H2 = "a" * 64, "b" * 64


def with_redis(env: dict[str, str], body: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    async def go() -> T:
        client = async_client(env["REDIS_URL"])
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def store(client: aioredis.Redis) -> IdempotencyStore:
    return IdempotencyStore(client, pending_ttl_s=30, done_ttl_s=3600)


def test_claim_states_and_token_guarded_release(isolated_env: dict[str, str]) -> None:
    async def body(client: aioredis.Redis) -> None:
        s = store(client)
        one, other = new_token(), new_token()
        assert one != other
        claim = IdempotencyClaim("idem:T:e1", H1)
        assert await s.claim([claim], one) == [ClaimState.CLAIMED]
        assert await s.claim([claim], other) == [ClaimState.PENDING]
        assert await s.claim([IdempotencyClaim("idem:T:e1", H2)], other) == [ClaimState.CONFLICT]
        await s.release([claim], other)  # not its claim: nothing happens
        assert await s.claim([claim], other) == [ClaimState.PENDING]
        await s.release([claim], one)
        assert await s.claim([claim], other) == [ClaimState.CLAIMED]
        await s.mark_done([claim])
        assert await s.claim([claim], one) == [ClaimState.DUPLICATE]
        assert await s.claim([IdempotencyClaim("idem:T:e1", H2)], one) == [ClaimState.CONFLICT]
        await s.release([claim], other)  # done claims are never released
        assert await s.claim([claim], one) == [ClaimState.DUPLICATE]
        assert 3000 < await client.ttl("idem:T:e1") <= 3600

    with_redis(isolated_env, body)


def test_batch_claim_is_per_key(isolated_env: dict[str, str]) -> None:
    async def body(client: aioredis.Redis) -> None:
        s = store(client)
        token = new_token()
        await s.mark_done([IdempotencyClaim("idem:T:b-done", H1)])
        claims = [
            IdempotencyClaim("idem:T:b-new", H1),
            IdempotencyClaim("idem:T:b-done", H1),
            IdempotencyClaim("idem:T:b-done", H2),
        ]
        assert await s.claim(claims, token) == [ClaimState.CLAIMED, ClaimState.DUPLICATE, ClaimState.CONFLICT]

    with_redis(isolated_env, body)


def test_settle_waits_for_the_holder_to_finish(isolated_env: dict[str, str]) -> None:
    async def body(client: aioredis.Redis) -> tuple[list[ClaimState], list[ClaimState], list[ClaimState]]:
        s = store(client)
        done, released, stuck = (IdempotencyClaim(f"idem:T:s-{n}", H1) for n in ("done", "rel", "stuck"))
        holder = new_token()
        await s.claim([done, released, stuck], holder)

        async def finish() -> None:
            await asyncio.sleep(0.2)
            await s.mark_done([done])
            await s.release([released], holder)

        waiter = new_token()
        finishing = asyncio.create_task(finish())
        first = await s.settle([done], waiter, timeout_s=3.0)
        second = await s.settle([released], waiter, timeout_s=3.0)
        third = await s.settle([stuck], waiter, timeout_s=0.3)
        await finishing
        return first, second, third

    first, second, third = with_redis(isolated_env, body)
    assert first == [ClaimState.DUPLICATE]
    assert second == [ClaimState.CLAIMED]  # released by its holder: taken over
    assert third == [ClaimState.PENDING]  # still held at the deadline


def test_token_bucket_allows_burst_then_refills(isolated_env: dict[str, str]) -> None:
    async def body(client: aioredis.Redis) -> list[tuple[bool, int]]:
        limiter = RateLimiter(client)
        results = [await limiter.take("RLBANK", 2, 5, 1) for _ in range(6)]
        big = await limiter.take("RLBANK", 2, 5, 6)
        await asyncio.sleep(1.1)
        refilled = await limiter.take("RLBANK", 2, 5, 2)
        return [(d.allowed, d.retry_after_s) for d in [*results, big, refilled]]

    decisions = with_redis(isolated_env, body)
    assert decisions[:5] == [(True, 0)] * 5
    assert decisions[5] == (False, 1)
    assert decisions[6][0] is False
    assert decisions[6][1] >= 3  # 6 tokens at 2/s from an empty bucket
    assert decisions[7] == (True, 0)


def test_buckets_are_per_bank(isolated_env: dict[str, str]) -> None:
    async def body(client: aioredis.Redis) -> tuple[bool, bool]:
        limiter = RateLimiter(client)
        await limiter.take("RL-A", 1, 1, 1)
        a = await limiter.take("RL-A", 1, 1, 1)
        b = await limiter.take("RL-B", 1, 1, 1)
        return a.allowed, b.allowed

    assert with_redis(isolated_env, body) == (False, True)


def test_a_dead_workers_lease_expires(isolated_env: dict[str, str]) -> None:
    """A lease never released (its worker was killed) stops counting after its expiry, and
    releasing a stale token never frees another request's lease."""

    async def body(client: aioredis.Redis) -> None:
        limiter = RateLimiter(client)
        budget = ByteBudget(bytes_per_second=10**6, burst_bytes=10**6, max_in_flight=1, lease_ms=500)
        decision, lease = await limiter.admit("DEADWORKER", budget, 10)
        assert decision.allowed
        assert lease is not None  # and never released
        refused, none = await limiter.admit("DEADWORKER", budget, 10)
        assert not refused.allowed
        assert none is None
        await asyncio.sleep(0.6)  # Redis's own clock decides the expiry
        again, lease2 = await limiter.admit("DEADWORKER", budget, 10)
        assert again.allowed
        assert lease2 is not None
        await limiter.release(lease)
        assert await client.zcard(lease_key("DEADWORKER")) == 1
        await limiter.release(lease2)
        assert await client.zcard(lease_key("DEADWORKER")) == 0

    with_redis(isolated_env, body)


def test_a_refused_admission_charges_nothing(isolated_env: dict[str, str]) -> None:
    """Bytes and lease are taken together or not at all (one Lua call)."""

    async def body(client: aioredis.Redis) -> tuple[bool, bool, bool]:
        limiter = RateLimiter(client)
        budget = ByteBudget(bytes_per_second=1, burst_bytes=1000, max_in_flight=5, lease_ms=60_000)
        first, _ = await limiter.admit("BYTEBANK", budget, 900)
        over, none = await limiter.admit("BYTEBANK", budget, 200)  # 100 left: refused
        small, _ = await limiter.admit("BYTEBANK", budget, 90)  # still there to take
        leases = await client.zcard(lease_key("BYTEBANK"))
        assert none is None
        assert leases == 2  # the refused request took no slot
        assert over.retry_after_s >= 100
        return first.allowed, over.allowed, small.allowed

    assert with_redis(isolated_env, body) == (True, False, True)
