"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the open-loop generator.

httpx (h11 in pure Python, anyio) cost the end-to-end generator about 0.65 of a core at
6,000 events/s on this 2-core machine, CPU taken from the pipeline it measures. This client
does only what the generator needs, with the parsing in C where Python has it: one request
at a time per connection, Content-Length bodies (all ingest and API answers have one),
connections reused from a pool. Anything else is an error, never a silent misread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


class RawHttpError(Exception):
    """The connection failed or the answer was not a plain Content-Length response."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class RawHttpClient:
    def __init__(self, base_url: str, max_connections: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"plain http://host:port URLs only, not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._authority = f"{self._host}:{self._port}".encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def request(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"", timeout: float = 30.0
    ) -> Response:
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._open()
            try:
                async with asyncio.timeout(timeout):
                    response, reusable = await self._exchange(connection, method, target, headers or {}, body)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                connection[1].close()
                raise RawHttpError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                connection[1].close()
                raise
            if reusable:
                self._idle.append(connection)
            else:
                connection[1].close()
            return response

    async def _open(self) -> _Connection:
        try:
            return await asyncio.open_connection(self._host, self._port)
        except OSError as exc:
            raise RawHttpError(f"connect: {exc}") from exc

    async def _exchange(
        self, connection: _Connection, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[Response, bool]:
        reader, writer = connection
        head = [
            f"{method} {target} HTTP/1.1".encode(),
            b"Host: " + self._authority,
            b"Content-Length: " + str(len(body)).encode(),
        ]
        head += [f"{name}: {value}".encode() for name, value in headers.items()]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        status_line = await reader.readuntil(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"bad status line {status_line!r}")
        status = int(parts[1])
        length: int | None = None
        reusable = parts[0] == b"HTTP/1.1"
        raw_headers = await reader.readuntil(b"\r\n\r\n")
        for line in raw_headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not supported here")
            elif name == b"connection" and value.strip().lower() == b"close":
                reusable = False
        if length is None:
            raise ValueError("answer without Content-Length")
        return Response(status, await reader.readexactly(length) if length else b""), reusable

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
