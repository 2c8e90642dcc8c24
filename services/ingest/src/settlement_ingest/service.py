"""Intake: rate limit, idempotency claim, produce with acknowledgement, mark done.

The HTTP layer turns request bodies into candidates (`SettlementEvent` or `ValidationFailure`); this
module decides each candidate's outcome. The order is what makes acknowledgements safe:

0. before the body is read: charge its bytes and take an in-flight lease (`admit_request`),
   or refuse with 429, so parsing is paid for before it is done;
1. take tokens from the bank's bucket (one per event) or refuse the request with 429;
2. claim every valid (bank, event_id) atomically in Redis; duplicates and conflicts are
   answered from the claim, copies in flight are waited for;
3. produce the claimed events and wait for the broker's acks=all acknowledgement;
4. only then mark the claims done and answer accepted, each accepted event with the log's
   signed receipt promise when a ReceiptIssuer is configured (docs/receipts.md). If the produce fails the request
   answers 503: claims of records the broker did acknowledge are marked done (a retry is a
   duplicate), the others are released (a retry produces them). Records still queued when
   the bound expires keep their claims pending until their final outcome is known, so a
   retry never produces a second copy of a record that reached the topic late.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from settlement_client.tlog.promise import Receipt
from settlement_core.auth import Principal
from settlement_core.business_days import today as business_today
from settlement_core.catalogue import load_catalogue
from settlement_core.corrections import NO_REASONS, load_reason_codes
from settlement_core.dates import parse_iso_date
from settlement_core.events import CanonicalEvent, SettlementEvent, canonical_event, encode_canonical
from settlement_core.kafka_io import EventProducer, KafkaUnavailable
from settlement_core.problems import Problem, validation_problem
from settlement_core.redis_io import RedisUnavailable
from settlement_core.tlog.issuer import ReceiptIssuer
from settlement_ingest.fast_validation import FastValidator
from settlement_ingest.idempotency import (
    ClaimState,
    IdempotencyClaim,
    IdempotencyStore,
    idempotency_key,
    new_token,
)
from settlement_ingest.metrics import IngestMetrics
from settlement_ingest.ratelimit import ByteBudget, Lease, RateLimiter, Refusal
from settlement_ingest.rejections import RejectionTally
from settlement_ingest.settings import IngestSettings
from settlement_ingest.validation import Rules, ValidationFailure

logger = logging.getLogger(__name__)

IntakeOutcome = Literal["accepted", "duplicate", "rejected"]
# A valid event comes from validate_event (its canonical text is made in `submit`) or from
# fast_validation with the text already made.
Candidate = SettlementEvent | CanonicalEvent | ValidationFailure


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str | None
    status: IntakeOutcome
    problem: Problem | None = None
    reason: str = ""
    # The log's promise, for "accepted" only: a duplicate's receipt came with its first answer.
    receipt: Receipt | None = None


def unavailable(detail: str, retry_after_s: int) -> Problem:
    return Problem(503, "Service unavailable", detail, "unavailable", headers={"Retry-After": str(retry_after_s)})


def conflict(event_id: str) -> Problem:
    return Problem(
        409,
        "Conflict",
        f"event_id {event_id!r} was already received with a different body; send a new event_id for a different event",
        "conflict",
    )


def rules_from(settings: IngestSettings) -> Rules:
    """The contract's limits and the catalogue (loaded here, so a bad catalogue fails start-up)."""
    catalogue = load_catalogue(settings.targets_file)
    return Rules(
        max_amount=settings.max_amount,
        currencies=frozenset(settings.accepted_currencies),
        earliest_value_date=parse_iso_date(settings.earliest_value_date),
        future_days=settings.value_date_future_days,
        categories=catalogue.codes,
        counting=catalogue.rules,
        reasons=NO_REASONS
        if settings.correction_reasons_path is None
        else load_reason_codes(settings.correction_reasons_path),
    )


class Intake:
    def __init__(
        self,
        settings: IngestSettings,
        producer: EventProducer,
        idempotency: IdempotencyStore,
        limiter: RateLimiter,
        metrics: IngestMetrics,
        issuer: ReceiptIssuer | None = None,
    ) -> None:
        self.settings = settings
        self._issuer = issuer
        self.rules = rules_from(settings)
        self.fast = FastValidator(self.rules)  # the common event's checks (fast_validation)
        self._timezone = settings.business_timezone
        self._producer = producer
        self._idempotency = idempotency
        self._limiter = limiter
        self.metrics = metrics
        # Events refused for their content, per bank (rejections.py; the app flushes them).
        self.rejections = RejectionTally()
        # Circuit breaker: after a failed produce only one request at a time (the probe)
        # waits on the broker; the rest answer 503 at once. This keeps every answer within
        # the bound (a request that waited on a concurrent copy does not wait a second
        # produce timeout) and the first successful probe closes the circuit again.
        self._kafka_down = False
        self._probe_in_flight = False
        self._late_tasks: set[asyncio.Task[None]] = set()

    @property
    def kafka_down(self) -> bool:
        """True from a failed produce until the next acknowledged one."""
        return self._kafka_down

    def today(self) -> date:
        return business_today(self._timezone)

    def redis_down(self, exc: Exception) -> Problem:
        logger.warning("redis unavailable", extra={"error": str(exc)})
        return unavailable(
            "The idempotency store is unavailable; nothing was accepted.", self.settings.unavailable_retry_after_s
        )

    @property
    def byte_budget(self) -> ByteBudget:
        s = self.settings
        return ByteBudget(
            s.bank_bytes_per_second, s.bank_bytes_burst, s.bank_max_in_flight, math.ceil(s.in_flight_lease_s * 1000)
        )

    async def admit_request(self, principal: Principal, cost_bytes: int) -> Lease:
        """Charge the body's bytes and take an in-flight lease before the body is read.

        Raises 429 (Retry-After) when the bank's byte bucket is short or the bank already has
        `bank_max_in_flight` requests in flight. 429 rather than 503: the limit is the bank's
        own, the service is not overloaded and other banks are served.
        """
        try:
            decision, lease = await self._limiter.admit(principal.id, self.byte_budget, cost_bytes)
        except RedisUnavailable as exc:
            raise self.redis_down(exc) from exc
        if lease is not None:
            self.metrics.body_bytes_charged.inc(cost_bytes)
            return lease
        headers = {"Retry-After": str(decision.retry_after_s)}
        if decision.refusal is Refusal.IN_FLIGHT:
            self.metrics.refused("in_flight")
            raise Problem(
                429,
                "Too many requests",
                f"{self.settings.bank_max_in_flight} requests of this bank are already in flight; "
                "wait for one to finish.",
                "too-many-in-flight",
                headers=headers,
            )
        self.metrics.refused("bytes")
        raise Problem(
            429,
            "Too many requests",
            f"Byte rate limit of {self.settings.bank_bytes_per_second} bytes/s (burst "
            f"{self.settings.bank_bytes_burst}) exceeded by this {cost_bytes}-byte request; retry after "
            f"{decision.retry_after_s} s. The body was not read.",
            "rate-limited",
            headers=headers,
        )

    async def release(self, lease: Lease) -> None:
        try:
            await self._limiter.release(lease)
        except RedisUnavailable as exc:
            # The lease expires by itself (in_flight_lease_s).
            logger.error("could not release an in-flight lease", extra={"error": str(exc)})

    async def admit(self, principal: Principal, cost: int) -> None:
        """Charge the bank's bucket; raises 429 with Retry-After when it is empty."""
        try:
            decision = await self._limiter.take(principal.id, principal.rate_per_second, principal.burst, max(1, cost))
        except RedisUnavailable as exc:
            raise self.redis_down(exc) from exc
        if not decision.allowed:
            self.metrics.event("rejected", "rate_limited", cost)
            detail = (
                f"Rate limit of {principal.rate_per_second} events/s (burst "
                f"{principal.burst}) exceeded; retry after {decision.retry_after_s} s."
            )
            if cost > principal.burst:
                detail = (
                    f"This request carries {cost} events, more than the burst of "
                    f"{principal.burst}; split it into smaller batches."
                )
            raise Problem(
                429, "Too many requests", detail, "rate-limited", headers={"Retry-After": str(decision.retry_after_s)}
            )

    async def submit(self, principal: Principal, candidates: Sequence[Candidate]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(candidates)
        # Payload and body hash come from one canonical text per event; the payload is only
        # produced if the claim is won.
        bodies: list[CanonicalEvent | None] = [None] * len(candidates)
        first_of: dict[str, int] = {}
        firsts: list[tuple[int, CanonicalEvent]] = []
        # Counted before anything that can fail, so a 503 later in the request keeps them too.
        refused = sum(isinstance(c, ValidationFailure) for c in candidates)
        if refused:  # the business date only when there is something to count
            self.rejections.note(principal.id, refused, self.today())
        for i, candidate in enumerate(candidates):
            if isinstance(candidate, ValidationFailure):
                outcomes[i] = Outcome(
                    candidate.event_id, "rejected", validation_problem(list(candidate.errors)), "validation"
                )
                continue
            body = candidate if isinstance(candidate, CanonicalEvent) else canonical_event(candidate)
            bodies[i] = body
            if body.event.event_id not in first_of:
                first_of[body.event.event_id] = i
                firsts.append((i, body))
        received_at = datetime.now(UTC)
        payloads = encode_canonical([body for _, body in firsts], received_at)
        unique = [
            (i, body.event, IdempotencyClaim(idempotency_key(principal.id, body.event.event_id), body.body_hash))
            for i, body in firsts
        ]
        token = new_token()
        try:
            states = await self._idempotency.settle([c for _, _, c in unique], token, self.settings.pending_wait_s)
        except RedisUnavailable as exc:
            raise self.redis_down(exc) from exc

        claimed = [
            (payload, claim)
            for (_, _, claim), payload, state in zip(unique, payloads, states, strict=True)
            if state is ClaimState.CLAIMED
        ]
        if claimed:
            await self._produce(principal, [p for p, _ in claimed], [c for _, c in claimed], token)

        hashes: dict[str, str] = {}
        for (i, event, claim), state in zip(unique, states, strict=True):
            hashes[event.event_id] = claim.body_hash
            if state is ClaimState.CLAIMED:
                outcomes[i] = Outcome(event.event_id, "accepted", receipt=self._receipt(event, claim, received_at))
            elif state is ClaimState.DUPLICATE:
                outcomes[i] = Outcome(event.event_id, "duplicate")
            elif state is ClaimState.CONFLICT:
                outcomes[i] = Outcome(event.event_id, "rejected", conflict(event.event_id), "conflict")
            else:
                outcomes[i] = Outcome(
                    event.event_id,
                    "rejected",
                    unavailable(f"event_id {event.event_id!r} is being processed by another request; retry", 1),
                    "in_progress",
                )
        # Repeats inside one request share the first copy's fate, or conflict with it.
        for i, repeat in enumerate(bodies):
            if outcomes[i] is not None or repeat is None:
                continue
            event_id = repeat.event.event_id
            first_outcome = outcomes[first_of[event_id]]
            assert first_outcome is not None
            if repeat.body_hash != hashes[event_id]:
                outcomes[i] = Outcome(event_id, "rejected", conflict(event_id), "conflict")
            elif first_outcome.status == "rejected":
                outcomes[i] = first_outcome
            else:
                outcomes[i] = Outcome(event_id, "duplicate")
        final = [o for o in outcomes if o is not None]
        for (status, reason), count in Counter((o.status, o.reason) for o in final).items():
            self.metrics.event(status, reason, count)
        return final

    def _receipt(self, event: SettlementEvent, claim: IdempotencyClaim, received_at: datetime) -> Receipt | None:
        if self._issuer is None:
            return None
        return self._issuer.issue(
            bank_id=event.bank_id, event_id=event.event_id, body_sha256=claim.body_hash, received_at=received_at
        )

    async def _produce(
        self, principal: Principal, payloads: list[bytes], claims: list[IdempotencyClaim], token: str
    ) -> None:
        key = principal.id.encode()
        records = [(key, payload) for payload in payloads]
        probe = self._kafka_down
        if probe and self._probe_in_flight:
            await self._release(claims, token)
            self.metrics.event("rejected", "unavailable", len(payloads))
            raise unavailable(
                "Kafka is unavailable; nothing was accepted, retry the same request.",
                self.settings.unavailable_retry_after_s,
            )
        self._probe_in_flight = self._probe_in_flight or probe
        started = time.perf_counter()
        try:
            await self._producer.send_many(
                self.settings.events_topic,
                records,
                on_late_outcome=lambda delivered: self._settle_late(claims, token, delivered),
            )
        except KafkaUnavailable as exc:
            self._kafka_down = True
            self.metrics.kafka_up.set(0)
            if exc.delivered is not None:
                await self._settle_claims(claims, token, exc.delivered)
            # else: records are still queued in the client and may yet reach the topic; their
            # claims stay pending until _settle_late learns the final outcome, so a retry in
            # the meantime waits instead of producing a second copy.
            self.metrics.event("rejected", "unavailable", len(payloads))
            logger.warning(
                "kafka unavailable; nothing acknowledged",
                extra={"bank_id": principal.id, "events": len(payloads), "error": str(exc)},
            )
            raise unavailable(
                "Kafka did not acknowledge the events in time; nothing was accepted, retry the same request.",
                self.settings.unavailable_retry_after_s,
            ) from exc
        except BaseException:
            # Cancelled (client gone) or a bug: free the claims so a retry is not blocked.
            await asyncio.shield(self._release(claims, token))
            raise
        finally:
            if probe:
                self._probe_in_flight = False
        if self._kafka_down:
            logger.info("kafka acknowledged again; intake resumed")
        self._kafka_down = False
        self.metrics.produce_latency.observe(time.perf_counter() - started)
        self.metrics.kafka_up.set(1)
        try:
            await self._idempotency.mark_done(claims)
        except RedisUnavailable as exc:
            # The events are on the topic: answer accepted. The pending claims expire, and
            # the ledger's unique (bank, event_id) absorbs a later repeat.
            logger.error("could not mark claims done", extra={"error": str(exc)})

    def _settle_late(self, claims: list[IdempotencyClaim], token: str, delivered: list[bool]) -> None:
        """Called on the loop once records that outlived the 503 have settled."""
        task = asyncio.get_running_loop().create_task(self._settle_claims(claims, token, delivered))
        self._late_tasks.add(task)
        task.add_done_callback(self._late_tasks.discard)

    async def _settle_claims(self, claims: list[IdempotencyClaim], token: str, delivered: list[bool]) -> None:
        """Records the broker acknowledged become duplicates for retries; the rest are freed."""
        done = [c for c, ok in zip(claims, delivered, strict=True) if ok]
        failed = [c for c, ok in zip(claims, delivered, strict=True) if not ok]
        try:
            if done:
                await self._idempotency.mark_done(done)
        except RedisUnavailable as exc:
            logger.error("could not mark claims done", extra={"error": str(exc)})
        if failed:
            await self._release(failed, token)

    async def _release(self, claims: list[IdempotencyClaim], token: str) -> None:
        try:
            await self._idempotency.release(claims, token)
        except RedisUnavailable as exc:
            logger.error("could not release claims; they expire by TTL", extra={"error": str(exc)})
