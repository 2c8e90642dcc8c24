"""Connection errors are retried, then surface as `TransportError` (a real refused socket)."""

from __future__ import annotations

import logging

import pytest

from settlement_client import Client, RetryPolicy, TransportError
from tests.conftest import free_port


def test_refused_connection_is_retried_then_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="settlement_client.client")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
    with Client(url, "stk_key", retry=policy) as client, pytest.raises(TransportError) as caught:
        client.submit({"event_id": "E1"})
    assert "ConnectError" in repr(caught.value.__cause__)
    attempts = [r.getMessage() for r in caplog.records if "ConnectError" in r.getMessage()]
    assert [a.rsplit("(", 1)[1] for a in attempts] == ["attempt 1)", "attempt 2)", "attempt 3)"]


def test_an_api_key_is_required() -> None:
    with pytest.raises(ValueError, match="api_key"):
        Client("http://127.0.0.1:1", "")
