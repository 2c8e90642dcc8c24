"""`Client`: the bank's side of the ingest contract (docs/ingest-contract.md).

Every request is retried on 429, 503 and connection errors with backoff, honouring
`Retry-After`, and always with the same bytes, hence the same `event_id`: the server's
idempotency key is (bank, event_id), so a request that did get through answers "duplicate"
and nothing is counted twice. Batch items the server answered 503 are resent the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from settlement_client.chunking import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, Chunk, chunks, encode, oversized
from settlement_client.errors import (
    Problem,
    ProblemError,
    TransportError,
    error_for,
)
from settlement_client.results import (
    BatchResult,
    ControlTotals,
    EventStatus,
    ItemResult,
    SkippedEntry,
    Submitted,
    control_totals_from_wire,
    item_from_wire,
    receipt_from_wire,
)
from settlement_client.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from settlement_client.signing import HmacSigner, OutgoingRequest, Signer

logger = logging.getLogger(__name__)

JSON = "application/json"
XML = "application/xml"
# Item outcomes that are worth sending again: the server accepted nothing for them.
_RETRY_ITEM_STATUSES = RETRYABLE_STATUSES

Progress = Callable[[int], None]


def _problem_of(response: httpx.Response) -> Problem:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        document = {"status": response.status_code, "title": response.reason_phrase, "detail": response.text[:500]}
    return Problem.from_document(document, response.status_code)


class Client:
    """A bank's connection to the ingest service (and, for `status` and control totals, to the API).

    `base_url` is the ingest service; `api_url` the API that `status` and control totals ask (the same
    host when both sit behind one gateway, the default). `hmac_secret` is set for banks
    registered with `--hmac` (HMAC v2); `signer` for any other scheme, e.g.
    `Ed25519Signer.from_file(path, key_id)` for banks with a registered public key (RFC 9421).
    Use as a context manager, or call `close()`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        hmac_secret: str | None = None,
        *,
        api_url: str | None = None,
        signer: Signer | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 30.0,
        max_batch_events: int = MAX_BATCH_EVENTS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        self.retry = retry or RetryPolicy()
        self.max_batch_events = max_batch_events
        self.max_batch_bytes = max_batch_bytes
        if hmac_secret is not None and signer is not None:
            raise ValueError("pass hmac_secret or signer, not both")
        self._signer: Signer | None = HmacSigner(hmac_secret) if hmac_secret is not None else signer
        headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "settlement-client/0.1"}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s, transport=transport)
        self._api = (
            httpx.Client(base_url=api_url, headers=headers, timeout=timeout_s, transport=transport)
            if api_url is not None
            else self._http
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        if self._api is not self._http:
            self._api.close()

    # -- requests -------------------------------------------------------------------------

    def _send_once(
        self, http: httpx.Client, method: str, path: str, body: bytes | None, content_type: str | None, params: Any
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        request = http.build_request(method, path, content=body, headers=headers, params=params)
        if body is not None and self._signer is not None:
            # Signed as it goes on the wire: the path and query httpx built, not the caller's.
            raw_path, _, query = request.url.raw_path.decode("ascii").partition("?")
            outgoing = OutgoingRequest(request.method, raw_path, query, body)
            request.headers.update(self._signer.headers(outgoing, int(time.time())))
        return http.send(request)

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        params: Any = None,
        http: httpx.Client | None = None,
    ) -> httpx.Response:
        """One logical request: retried on 429/503/connection errors, raises the typed error
        of any other 4xx/5xx."""
        client = http or self._http
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._send_once(client, method, path, body, content_type, params)
            except httpx.TransportError as exc:
                failure: Exception = exc
                logger.info("%s %s: %s (attempt %d)", method, path, type(exc).__name__, attempt)
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    if response.status_code >= 400:
                        raise error_for(_problem_of(response))
                    return response
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                failure = error_for(_problem_of(response))
                logger.info("%s %s: HTTP %d (attempt %d)", method, path, response.status_code, attempt)
            delay = self.retry.delay(attempt, retry_after)
            if not self.retry.allows(attempt, time.monotonic() - started, delay):
                if isinstance(failure, ProblemError):
                    raise failure
                raise TransportError(f"{method} {path}: {failure}") from failure
            time.sleep(delay)

    # -- the contract ---------------------------------------------------------------------

    def submit(self, event: Mapping[str, Any]) -> Submitted:
        """One event: `accepted` once Kafka stored it, `duplicate` when it had been before.

        Raises `InvalidRequest` (422, `problem.errors` per field), `Conflict` (409), etc.
        """
        response = self._request("POST", "/v1/events", encode(event), JSON)
        data = response.json()
        event_id = str(data.get("event_id", event.get("event_id")))
        if data.get("duplicate") or data.get("status") == "duplicate":
            return Submitted(event_id, "duplicate")
        return Submitted(event_id, "accepted", receipt_from_wire(data.get("receipt")))

    def correct(
        self, corrects: str, replacement: Mapping[str, Any], reason_code: str, reason_text: str | None = None
    ) -> Submitted:
        """A correction: `replacement` (a whole event under a new event_id) replaces the event
        `corrects` of this bank; `reason_code` from the server's list (WRONG_AMOUNT,
        WRONG_DATE, WRONG_CATEGORY, OTHER with `reason_text`). A duplicate submission is
        withdrawn instead: `submit` a reversal (`reverses`) with reason_code DUPLICATE."""
        return self.submit(correction(replacement, corrects, reason_code, reason_text))

    def submit_batch(self, events: Sequence[Mapping[str, Any]], progress: Progress | None = None) -> BatchResult:
        """Any number of events, sent in chunks within the server's limits (1000 events, 1 MiB).

        Returns one result per event, `index` being its position in `events`. Items the server
        answered 503/429 (nothing accepted) are resent until they get a final answer or the
        retry budget ends (then they stay rejected with the 503 problem). `progress` is called
        with the number of events that got a final answer, chunk by chunk.
        """
        final: dict[int, ItemResult] = {}
        sendable: list[tuple[int, bytes]] = []
        for index, event in enumerate(events):
            data = encode(event)
            if oversized(data, self.max_batch_bytes):
                final[index] = _too_large(index, event, self.max_batch_bytes)
            else:
                sendable.append((index, data))
        if progress is not None and final:
            progress(len(final))
        for chunk in chunks(sendable, self.max_batch_events, self.max_batch_bytes):
            for result in self._send_chunk(chunk):
                final[result.index] = result
            if progress is not None:
                progress(len(chunk.indexes))
        return BatchResult(tuple(final[i] for i in range(len(events))))

    def _send_chunk(self, chunk: Chunk) -> list[ItemResult]:
        done: list[ItemResult] = []
        pending = chunk
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            response = self._request("POST", "/v1/events/batch", pending.body, JSON)
            retry: list[tuple[int, bytes]] = []
            last: list[ItemResult] = []
            for position, raw in enumerate(response.json().get("results", [])):
                item = item_from_wire(raw, pending.indexes[position], position)
                if item.problem is not None and item.problem.status in _RETRY_ITEM_STATUSES:
                    retry.append((pending.indexes[position], pending.encoded[position]))
                    last.append(item)
                else:
                    done.append(item)
            if not retry:
                return done
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            delay = self.retry.delay(attempt, retry_after)
            if not self.retry.allows(attempt, time.monotonic() - started, delay):
                return done + last
            logger.info("batch: %d items answered 503/429, resending (attempt %d)", len(retry), attempt)
            time.sleep(delay)
            pending = Chunk(tuple(i for i, _ in retry), tuple(d for _, d in retry))

    def submit_iso20022(
        self, xml: bytes | str, category: str | None = None, categories: Iterable[str] = ()
    ) -> BatchResult:
        """One pacs.008 / pacs.009 / camt.054 message; results per transaction or entry.

        `category` (or several `categories`) classifies every event of the message when the
        service needs it told. The whole message is resent while items answer 503: items
        already accepted then answer duplicate, which keeps their first (accepted) result.
        """
        body = xml.encode() if isinstance(xml, str) else xml
        params = [("category", c) for c in ([category] if category else []) + list(categories)]
        final: dict[int, ItemResult] = {}
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            response = self._request("POST", "/v1/iso20022", body, XML, params or None)
            data = response.json()
            waiting = False
            for position, raw in enumerate(data.get("results", [])):
                item = item_from_wire(raw, position)
                earlier = final.get(position)
                if earlier is not None and earlier.status == "accepted" and item.status == "duplicate":
                    continue  # our own earlier attempt wrote it
                final[position] = item
                waiting |= item.problem is not None and item.problem.status in _RETRY_ITEM_STATUSES
            delay = self.retry.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
            if not waiting or not self.retry.allows(attempt, time.monotonic() - started, delay):
                skipped = tuple(
                    SkippedEntry(str(s.get("source", "")), str(s.get("reason", ""))) for s in data.get("skipped") or []
                )
                return BatchResult(tuple(final[i] for i in sorted(final)), data.get("message_type"), skipped)
            time.sleep(delay)

    def status(self, event_id: str, bank_id: str | None = None) -> EventStatus:
        """Where one event is (API `GET /v1/events/{event_id}`); operators pass `bank_id`."""
        params = {"bank_id": bank_id} if bank_id is not None else None
        response = self._request("GET", f"/v1/events/{quote(event_id, safe='')}", params=params, http=self._api)
        data = response.json()
        return EventStatus(str(data["bank_id"]), str(data["event_id"]), str(data["status"]), data)

    def declare_control_totals(self, period: str, lines: Iterable[Mapping[str, Any]]) -> ControlTotals:
        """A month's control totals (API `POST /v1/control-totals`): `period` "YYYY-MM" (ended),
        `lines` of {"target", "currency", "count", "amount" (a decimal string)}, one per target
        and currency the bank had events in (none: no events). Safe to retry: the same lines
        again answer the stored declaration (`stored` False); changed lines are the next
        version. Raises `InvalidRequest` (422, `problem.errors` per field: `#/lines/0/amount`),
        `Forbidden` (403: an operator key, or a bank that signs its submissions)."""
        body = encode({"period": period, "lines": [dict(line) for line in lines]})
        response = self._request("POST", "/v1/control-totals", body, JSON, http=self._api)
        return control_totals_from_wire(response.json(), stored=response.status_code == 201)

    def control_totals(self, period: str, bank_id: str | None = None) -> ControlTotals:
        """The month's declaration compared with the counted events now, with its breaks (API
        `GET /v1/control-totals/{period}`); `NotFound` when nothing is declared. Operators
        pass `bank_id`."""
        params = {"bank_id": bank_id} if bank_id is not None else None
        response = self._request("GET", f"/v1/control-totals/{quote(period, safe='')}", params=params, http=self._api)
        return control_totals_from_wire(response.json(), stored=False)


def _too_large(index: int, event: Mapping[str, Any], limit: int) -> ItemResult:
    event_id = event.get("event_id")
    problem = Problem(
        status=413,
        title="Content too large",
        detail=f"The event alone is larger than the batch limit of {limit} bytes; it was not sent.",
    )
    return ItemResult(index, event_id if isinstance(event_id, str) else None, "rejected", problem)


__all__ = ["Client"]


def correction(
    replacement: Mapping[str, Any], corrects: str, reason_code: str, reason_text: str | None = None
) -> dict[str, Any]:
    """The event `Client.correct` sends: `replacement` with the correction's three fields."""
    event = {**replacement, "corrects": corrects, "reason_code": reason_code}
    if reason_text is not None:
        event["reason_text"] = reason_text
    return event
