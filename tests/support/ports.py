"""Loopback ports: a free one for each service a test starts, and the URLs of both kinds.

Every service reads its port from one environment variable (its settings.py); a test that
starts a service gives it a free port in that variable, and a test of the running local stack
reads the port stack.sh wrote to stack.env. This module is the one place that knows both.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

LOOPBACK = "127.0.0.1"

# The variable each service's entry module (`python -m <module>`) takes its port from.
PORT_VARIABLES = {
    "settlement_ingest": "INGEST_PORT",
    "settlement_aggregate": "AGGREGATE_PORT",
    "settlement_api": "API_PORT",
}


def free_port() -> int:
    """A port nobody listens on now (the kernel's choice; free until someone binds it)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_env(module: str, port: int) -> dict[str, str]:
    """The environment that makes `python -m <module>` listen on the port."""
    return {PORT_VARIABLES[module]: str(port)}


def loopback_url(port: int | str) -> str:
    return f"http://{LOOPBACK}:{port}"


def stack_url(env: Mapping[str, str], variable: str) -> str:
    """A running stack's service, by its port variable in stack.env (e.g. "API_PORT")."""
    return loopback_url(env[variable])
