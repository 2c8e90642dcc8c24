from __future__ import annotations

import pytest

from settlement_client.signing import signature
from settlement_core.auth import AuthError, sign, verify_signature


def test_signature_is_the_servers_scheme() -> None:
    body = b'{"event_id":"E1"}'
    assert signature("s3cret", 1_764_000_000, body) == sign("s3cret", 1_764_000_000, body)
    verify_signature("s3cret", signature("s3cret", 1_764_000_000, body), body, now=1_764_000_100)


def test_signature_binds_the_body_and_the_secret() -> None:
    header = signature("s3cret", 1_764_000_000, b"a")
    with pytest.raises(AuthError):
        verify_signature("s3cret", header, b"b", now=1_764_000_000)
    with pytest.raises(AuthError):
        verify_signature("other", header, b"a", now=1_764_000_000)
