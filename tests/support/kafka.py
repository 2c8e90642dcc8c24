"""Kafka client configuration for test code, per principal of the local stack.

The stack's brokers accept SASL/SCRAM-SHA-512 only and authorise by ACL. stack.env carries
the `admin` principal (a super user: tests create topics and read anything); the other
principals' passwords are in $STACK_DIR/secrets.env, which stack.sh generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from settlement_core.kafka_io import KafkaAccess, client_config
from tests.support.stack import read_env_file, stack_env

PRINCIPALS = ("admin", "ingest", "aggregate", "bench")


def kafka_password(principal: str, env: dict[str, str]) -> str:
    secrets = read_env_file(Path(env["STACK_DIR"]) / "secrets.env")
    return secrets[f"KAFKA_{principal.upper()}_PASSWORD"]


def kafka_access(env: dict[str, str] | None = None, principal: str = "admin") -> KafkaAccess:
    """The stack's brokers (env's KAFKA_BOOTSTRAP) as `principal`."""
    env = env if env is not None else stack_env()
    if principal not in PRINCIPALS:
        raise ValueError(f"unknown principal {principal!r}")
    base = KafkaAccess.from_env(env)
    return base.as_principal(principal, kafka_password(principal, env))


def kafka_config(env: dict[str, str] | None = None, principal: str = "admin") -> dict[str, Any]:
    """kafka-python keyword arguments (bootstrap_servers and SASL) for `principal`."""
    return client_config(kafka_access(env, principal))
