"""Header and body read deadlines for the HTTP servers (ingest and api both run uvicorn).

uvicorn only times out idle keep-alive connections (5 s between requests). A client that
opens a connection and sends its request line and headers a byte at a time (slowloris),
or declares a body and then stalls, holds the connection, its buffers and (on ingest) the
bank's in-flight slot for as long as it likes. This module gives uvicorn's httptools
protocol two deadlines:

- headers: from the connection's start, or from the first byte of a next request on a kept
  alive connection, until the headers are complete (`HTTP_HEADER_TIMEOUT_S`, default 10 s);
- body: from the end of the headers until the whole body has arrived
  (`HTTP_BODY_TIMEOUT_S`, default 30 s; a 4 MiB ISO 20022 message needs 140 KB/s).

When one expires the server answers `408` problem+json if no response has started yet and
closes the connection; a request still waiting for its body then sees a disconnect. The
keep-alive timeout between requests is uvicorn's own, unchanged. Time spent by the
application after the body has arrived (a Kafka acknowledgement) is never limited here.

Usage: `uvicorn.Config(app, http=timed_protocol(HttpTimeouts()), ...)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

Phase = Literal["headers", "body"]


class HttpTimeouts(BaseSettings):
    """HTTP_HEADER_TIMEOUT_S and HTTP_BODY_TIMEOUT_S, shared by both servers."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    http_header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    http_body_timeout_s: float = Field(default=30.0, gt=0, le=3600)


def timeout_response(phase: Phase) -> bytes:
    """The raw 408 answer (problem+json, connection closed) for an expired deadline."""
    body = json.dumps(
        {
            "type": "https://settlement-tracker.invalid/problems/request-timeout",
            "title": "Request timeout",
            "status": 408,
            "detail": f"The request {phase} did not arrive in time; the connection is closed.",
        }
    ).encode()
    head = (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n"
    )
    return head + body


class _TimedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout_s: ClassVar[float]
    body_timeout_s: ClassVar[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, phase: Phase) -> None:
        self._disarm()
        delay = self.header_timeout_s if phase == "headers" else self.body_timeout_s
        self._deadline = self.loop.call_later(delay, self._expired, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # The first bytes of a next request on a kept-alive connection start its clock
        # (uvicorn cancels its keep-alive timer on any byte, so without this a client could
        # keep a connection forever by sending one byte every 4 s).
        if self._deadline is None and self._between_requests():
            self._arm("headers")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._arm("body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _expired(self, phase: Phase) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else None
        logger.warning("http request timed out", extra={"phase": phase, "client": client})
        cycle = self.cycle
        if phase == "headers" and self._between_requests():
            self.transport.write(timeout_response(phase))
        elif phase == "body" and cycle is not None and not cycle.response_started:
            # The application is waiting for the body: it sees a disconnect, and anything
            # it would still send is dropped (the cycle is marked disconnected first).
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.write(timeout_response(phase))
        # Otherwise a response was already sent (e.g. 429 before the body was read) and the
        # body still trickles in: the connection is just closed.
        self.transport.close()


def timed_protocol(timeouts: HttpTimeouts) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with these header and body deadlines."""
    return type(
        "TimedHttpToolsProtocol",
        (_TimedHttpToolsProtocol,),
        {"header_timeout_s": timeouts.http_header_timeout_s, "body_timeout_s": timeouts.http_body_timeout_s},
    )
