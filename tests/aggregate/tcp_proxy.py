"""A plain TCP forwarder the test can cut: the aggregator talks to the real PostgreSQL or
Redis through it, and `cut()` makes that dependency unreachable (connections reset, new
ones refused) without touching the shared server. `swallow()` drops what the server sends
while every connection stays open, as toxiproxy's `timeout` toxic with timeout 0 does."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.ports import LOOPBACK, free_port


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._swallowing = threading.Event()
        self.port = free_port()  # kept across cut() and start(): the aggregator's URL names it

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            # shutdown() wakes the accept() blocked in the other thread; close() alone
            # would leave the kernel socket listening until that accept() returns.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def swallow(self, on: bool = True) -> None:
        """While on, bytes from the server are read and dropped: the client's query gets
        no answer, its TCP connection stays open and acknowledged."""
        if on:
            self._swallowing.set()
        else:
            self._swallowing.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._conns += [client, server]
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self._swallowing), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, drop: threading.Event | None) -> None:
        try:
            while data := src.recv(65536):
                if drop is None or not drop.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
