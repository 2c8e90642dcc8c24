"""Reachability probes for /readyz and the `ingest_kafka_up` gauge."""

from __future__ import annotations

import asyncio


async def kafka_reachable(bootstrap: str, timeout_s: float = 1.0) -> bool:
    """True when any bootstrap server accepts a TCP connection.

    kafka-python answers metadata questions from its cache while the broker is away, so
    asking the producer would report a dead broker as alive; a connection attempt cannot.
    """
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s)
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        return True
    return False
