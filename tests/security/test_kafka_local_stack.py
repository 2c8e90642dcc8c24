"""Issue 20, M6 and the local parts of M8 and "Redis memory is unbounded", checked on the
running local stack (deploy/local/stack.sh). On the starting main: any OS user logged into
PostgreSQL as the superuser over the socket with no password (--auth-local=trust),
secrets.env sat in a world-readable folder, Prometheus answered POST /-/reload, and Redis had
no memory bound (under pressure it could only fail or, with a policy, evict fences)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from tests.support.ports import stack_url
from tests.support.stack import STACK_DIR, stack_env

pytestmark = pytest.mark.integration


def _stack_dir() -> Path:
    return Path(stack_env().get("STACK_DIR", STACK_DIR))


def _socket_dir() -> Path:
    """Where stack.sh's PostgreSQL keeps its socket (pg_home in stack.sh)."""
    stack_dir = _stack_dir()
    local = stack_dir / "postgres" / "sock"
    if os.geteuid() == 0 and not local.exists():
        digest = hashlib.sha256(str(stack_dir).encode()).hexdigest()[:16]
        return Path("/var/lib/postgresql/settlement-tracker") / digest / "sock"
    return local


def test_postgres_socket_login_without_password_is_refused() -> None:
    url = make_url(stack_env()["DATABASE_URL"])
    sock = _socket_dir()
    assert any(sock.glob(".s.PGSQL.*")), f"no PostgreSQL socket in {sock}"
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host=str(sock), port=url.port, user="settlement", dbname="postgres", connect_timeout=5)
    # The password from the secrets file opens the same socket: the refusal was the rule.
    with psycopg.connect(
        host=str(sock), port=url.port, user="settlement", password=url.password, dbname="postgres", connect_timeout=5
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_postgres_tcp_login_without_password_is_refused() -> None:
    url = make_url(stack_env()["DATABASE_URL"])
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host="127.0.0.1", port=url.port, user="settlement", dbname="postgres", connect_timeout=5)


def test_secrets_are_owner_only() -> None:
    stack_dir = _stack_dir()
    assert stat.S_IMODE(stack_dir.stat().st_mode) == 0o700
    for name in ("secrets.env", "stack.env"):
        assert stat.S_IMODE((stack_dir / name).stat().st_mode) == 0o600, name


def test_prometheus_lifecycle_api_is_off() -> None:
    prometheus = stack_url(stack_env(), "PROM_PORT")
    reply = httpx.post(f"{prometheus}/-/reload", timeout=5)
    assert reply.status_code == 403, reply.text  # "Lifecycle API is not enabled."
    assert httpx.get(f"{prometheus}/-/ready", timeout=5).status_code == 200


def test_redis_is_bounded_and_never_evicts() -> None:
    client = redis.Redis.from_url(stack_env()["REDIS_URL"])
    try:
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        maxmemory = client.config_get("maxmemory")["maxmemory"]
        assert maxmemory is not None
        assert int(maxmemory) > 0
    finally:
        client.close()
