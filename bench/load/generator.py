"""The load generator: a separate asyncio process, so that its CPU is measured
apart from the services' (the parent reports it).

    echo '<json spec>' | python -m bench.load.generator      -> one JSON report on stdout

Modes:
  closed  `concurrency` workers each POST back to back for `duration` seconds after a
          `warmup`; single events (`batch` = 0) or batches of `batch` events.
  open    a fixed arrival rate (`rate` events/s, in batches of `batch`) regardless of how
          fast answers come (open loop, so a slow pipeline cannot slow the offered load),
          plus probe events whose visibility in GET /v1/progress is timed (end to end).
  reads   GETs of one URL (httpx), for latency.

Writes go over the lightweight client in raw_http.py: the generator's CPU is taken from
the pipeline it measures.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from bench.load.raw_http import RawHttpClient, RawHttpError

COUNTRIES = ("SG", "HK", "US", "DE", "GB", "JP", "KR", "VN")
JSON_HEADERS = {"Content-Type": "application/json"}


def event_json(event_id: str, category: str, rng: random.Random, amount: str | None = None) -> str:
    """One event body; written by hand because json.dumps would cost the generator more CPU
    than the request itself at thousands per second."""
    currency = "USD" if category == "offshore" else "CNY"
    if amount is None:
        amount = f"{rng.randrange(100, 10_000_000)}.{rng.randrange(100):02d}"
    day = f"2020-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    direction = "inbound" if rng.random() < 0.5 else "outbound"
    return (
        f'{{"event_id":"{event_id}","category":"{category}","amount":"{amount}",'
        f'"currency":"{currency}","value_date":"{day}","direction":"{direction}",'
        f'"counterparty_country":"{COUNTRIES[rng.randrange(len(COUNTRIES))]}"}}'
    )


def count_accepted(body: Any, sent: int) -> int:
    """Accepted items in a batch answer. The contract is 'a result per item, by index', so
    look for the per-item list and count the accepted ones."""
    if isinstance(body, dict) and isinstance(body.get("accepted"), int):
        return int(body["accepted"])  # ingest's own per-batch tally
    items: list[Any] | None = None
    if isinstance(body, dict):
        for key in ("results", "items", "events"):
            if isinstance(body.get(key), list):
                items = body[key]
                break
    elif isinstance(body, list):
        items = body
    if items is None:
        return 0
    accepted = 0
    for item in items:
        if isinstance(item, dict):
            status = item.get("status") or item.get("outcome") or item.get("result")
            if status == "accepted" or (status is None and item.get("accepted") is True):
                accepted += 1
    return accepted if items else sent


@dataclass(slots=True)
class Tally:
    requests: int = 0
    ok: int = 0
    events: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def note_status(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def _post(
    pool: RawHttpClient, path: str, key: str, body: str, size: int, timeout: float = 30.0
) -> tuple[float, str, int]:
    """(latency s, status, accepted events) of one POST of one event (`size` 0) or a batch."""
    started = time.perf_counter()
    try:
        response = await pool.request(
            "POST", path, {**JSON_HEADERS, "Authorization": f"Bearer {key}"}, body.encode(), timeout
        )
    except RawHttpError:
        return time.perf_counter() - started, "connection error", 0
    elapsed = time.perf_counter() - started
    if size == 0:
        return elapsed, str(response.status), 1 if response.status == 202 else 0
    if response.status != 200:
        return elapsed, str(response.status), 0
    return elapsed, "200", count_accepted(json.loads(response.body), size)


async def closed_loop(spec: dict[str, Any]) -> dict[str, Any]:
    keys: list[str] = spec["keys"]
    batch = int(spec["batch"])
    concurrency = int(spec["concurrency"])
    path = "/v1/events/batch" if batch else "/v1/events"
    categories: list[str] = spec["categories"]
    prefix = spec["id_prefix"]
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + float(spec["warmup"])
    stop_at = measure_from + float(spec["duration"])
    timeout = float(spec.get("timeout", 30))
    client = RawHttpClient(spec["url"], concurrency)

    async def worker(n: int) -> None:
        rng = random.Random(n)
        key = keys[n % len(keys)]
        seq = 0
        while time.perf_counter() < stop_at:
            if batch:
                events = []
                for _ in range(batch):
                    seq += 1
                    events.append(event_json(f"{prefix}-{n}-{seq}", categories[seq % len(categories)], rng))
                body = '{"events":[' + ",".join(events) + "]}"
            else:
                seq += 1
                body = event_json(f"{prefix}-{n}-{seq}", categories[seq % len(categories)], rng)
            sent_at = time.perf_counter()
            elapsed, status, accepted = await _post(client, path, key, body, batch, timeout)
            # Only requests that both start and finish inside the window are counted.
            if sent_at >= measure_from and sent_at + elapsed <= stop_at:
                tally.requests += 1
                tally.note_status(status)
                tally.latencies.append(elapsed)
                if status in ("200", "202"):
                    tally.ok += 1
                tally.events += accepted

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    await client.aclose()
    return {
        "requests": tally.requests,
        "ok": tally.ok,
        "events": tally.events,
        "statuses": tally.statuses,
        "latencies": tally.latencies,
        "seconds": float(spec["duration"]),
    }


def _settled(body: Any, category: str) -> Decimal | None:
    for target in body.get("targets", []) if isinstance(body, dict) else []:
        if target.get("code") == category:
            return Decimal(str(target.get("settled")))
    return None


async def open_loop(spec: dict[str, Any]) -> dict[str, Any]:
    keys: list[str] = spec["keys"]
    # Probes are part of the offered load: the background makes up the rest of `rate`.
    rate = float(spec["rate"]) - float(spec["probe_rate"])
    batch = int(spec["batch"])
    duration = float(spec["duration"])
    probe_category = spec["probe_category"]
    background_categories = [c for c in spec["categories"] if c != probe_category]
    prefix = spec["id_prefix"]
    ingest = spec["ingest_url"]
    progress_path = "/v1/progress?as_of=2020-12-31"
    operator = {"Authorization": f"Bearer {spec['operator_key']}"}
    max_in_flight = int(spec.get("max_in_flight", 512))
    tally = Tally()
    rng = random.Random(7)
    acked_at: list[float] = []  # ack time of probe k (k = index), in send order
    seen_at: dict[int, float] = {}  # probe index -> first poll that showed it
    dropped_slots = 0
    in_flight: set[asyncio.Task[None]] = set()
    # Ingest and the API each get their own pool; the probe and the poller never wait
    # behind background batches for a connection.
    client = RawHttpClient(ingest, max_in_flight)
    probe_client = RawHttpClient(ingest, 2)
    api_client = RawHttpClient(spec["api_url"], 2)

    async def progress_count() -> Decimal | None:
        response = await api_client.request("GET", progress_path, operator)
        if response.status != 200:
            raise RawHttpError(f"GET /v1/progress answered {response.status}")
        return _settled(json.loads(response.body), probe_category)

    baseline = await progress_count() or Decimal(0)
    start = time.perf_counter()
    end = start + duration
    done_sending = asyncio.Event()

    async def send_one(body: str, size: int) -> None:
        elapsed, status, accepted = await _post(client, "/v1/events/batch", keys[rng.randrange(len(keys))], body, size)
        tally.requests += 1
        tally.note_status(status)
        tally.latencies.append(elapsed)
        tally.events += accepted

    async def background() -> None:
        nonlocal dropped_slots
        interval = batch / rate
        seq = 0
        slot = 0
        while True:
            due = start + slot * interval
            if due >= end:
                break
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            slot += 1
            if len(in_flight) >= max_in_flight:
                # The pipeline is not keeping up; the slot is recorded as lost offered load.
                dropped_slots += 1
                continue
            events = []
            for _ in range(batch):
                seq += 1
                events.append(
                    event_json(f"{prefix}-{seq}", background_categories[seq % len(background_categories)], rng)
                )
            task = asyncio.create_task(send_one('{"events":[' + ",".join(events) + "]}", batch))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    async def probes() -> None:
        # One probe bank and one category: its partition applies in offset order and, since
        # probes are sent one at a time, the k-th acknowledged probe is the k-th in Kafka.
        interval = 1.0 / float(spec["probe_rate"])
        sent = 0
        while time.perf_counter() < end:
            tick = time.perf_counter()
            # A fresh id even after a failed attempt: retrying one id could only ever
            # answer "duplicate" once the first attempt had reached Kafka.
            body = event_json(f"{prefix}-probe-{sent}", probe_category, rng, amount="1.00")
            sent += 1
            elapsed, status, _ = await _post(probe_client, "/v1/events", spec["probe_key"], body, 0)
            if status == "202":
                acked_at.append(tick + elapsed)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))

    async def poller() -> None:
        drain_deadline: float | None = None
        while True:
            try:
                settled = await progress_count()
            except (RawHttpError, ValueError):
                settled = None
            now = time.perf_counter()
            if settled is not None:
                visible = int(settled - baseline)
                for index in range(len(seen_at), min(visible, len(acked_at))):
                    seen_at[index] = now
            if done_sending.is_set():
                drain_deadline = drain_deadline or now + float(spec["drain_timeout"])
                if len(seen_at) >= len(acked_at) or now > drain_deadline:
                    return
            await asyncio.sleep(float(spec.get("poll_interval", 0.01)))

    poll_task = asyncio.create_task(poller())
    await asyncio.gather(background(), probes())
    if in_flight:
        await asyncio.gather(*list(in_flight), return_exceptions=True)
    # The offered window, or longer if answers were still coming in after it.
    sent_seconds = max(duration, time.perf_counter() - start)
    done_sending.set()
    await poll_task
    for pool in (client, probe_client, api_client):
        await pool.aclose()
    e2e = [max(0.0, seen_at[i] - acked_at[i]) for i in sorted(seen_at)]
    return {
        "requests": tally.requests,
        "events": tally.events + len(acked_at),
        "statuses": tally.statuses,
        "latencies": tally.latencies,
        "seconds": sent_seconds,
        "dropped_slots": dropped_slots,
        "probes_acked": len(acked_at),
        "probes_seen": len(seen_at),
        "e2e": e2e,
    }


async def reads(spec: dict[str, Any]) -> dict[str, Any]:
    """`requests` GETs of one URL, `concurrency` at a time (1 = pure latency)."""
    tally = Tally()
    headers = {"Authorization": f"Bearer {spec['key']}"} if spec.get("key") else {}
    remaining = int(spec["requests"])
    started = time.perf_counter()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            try:
                response = await client.get(spec["url"], headers=headers)
                await response.aread()
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            tally.latencies.append(time.perf_counter() - t0)
            tally.requests += 1
            tally.note_status(status)

    async with httpx.AsyncClient(timeout=30.0) as client:
        # Two untimed requests first: connection set-up is not what we measure.
        for _ in range(2):
            await client.get(spec["url"], headers=headers)
        await asyncio.gather(*(worker(client) for _ in range(int(spec.get("concurrency", 1)))))
    return {
        "requests": tally.requests,
        "statuses": tally.statuses,
        "latencies": tally.latencies,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    runner = {"closed": closed_loop, "open": open_loop, "reads": reads}[spec["mode"]]
    report = asyncio.run(runner(spec))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report["self_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
