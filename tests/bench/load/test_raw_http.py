"""bench.load.raw_http: the generator's HTTP client reads answers exactly, reuses connections,
and refuses what it does not support rather than misread it (loopback server, no I/O
beyond it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from bench.load.raw_http import RawHttpClient, RawHttpError

Handler = Callable[[bytes, bytes], bytes]


async def serve(handler: Handler, run: Callable[[str, list[int]], Awaitable[None]]) -> None:
    connections: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                writer.write(handler(head, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await run(f"http://127.0.0.1:{port}", connections)


def echo(head: bytes, body: bytes) -> bytes:
    target = head.split(b" ")[1]
    payload = target + b"|" + body
    return (
        b"HTTP/1.1 202 Accepted\r\nContent-Length: "
        + str(len(payload)).encode()
        + b"\r\nContent-Type: application/json\r\n\r\n"
        + payload
    )


def test_reads_status_and_body_and_reuses_the_connection() -> None:
    async def run(url: str, connections: list[int]) -> None:
        client = RawHttpClient(url, max_connections=1)
        for n in range(5):
            response = await client.request("POST", f"/v1/events?n={n}", {"X-A": "b"}, b'{"k":"' + b"x" * n + b'"}')
            assert response.status == 202
            assert response.body == f'/v1/events?n={n}|{{"k":"{"x" * n}"}}'.encode()
        assert len(connections) == 1
        await client.aclose()

    asyncio.run(serve(echo, run))


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nno length",
        b"garbage\r\n\r\n",
    ],
)
def test_refuses_answers_it_cannot_read_exactly(answer: bytes) -> None:
    async def run(url: str, _: list[int]) -> None:
        client = RawHttpClient(url, max_connections=1)
        with pytest.raises(RawHttpError):
            await client.request("GET", "/", timeout=5)
        await client.aclose()

    asyncio.run(serve(lambda head, body: answer, run))


def test_connection_close_is_not_reused() -> None:
    def close_after(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    async def run(url: str, connections: list[int]) -> None:
        client = RawHttpClient(url, max_connections=1)
        for _ in range(3):
            assert (await client.request("GET", "/")).body == b"ok"
        assert len(connections) == 3
        await client.aclose()

    asyncio.run(serve(close_after, run))


def test_only_plain_http_urls() -> None:
    with pytest.raises(ValueError, match="plain http"):
        RawHttpClient("https://example.invalid", 1)
