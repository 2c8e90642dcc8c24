"""Strong ETags and If-None-Match (kit/http_cache.py)."""

from __future__ import annotations

from settlement_api.kit.http_cache import etag_for, matches


def test_if_none_match() -> None:
    tag = etag_for(b"body")
    assert matches(tag, tag)
    assert matches(f'"x", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches('"other"', tag)
    assert not matches(None, tag)
    assert etag_for(b"body") != etag_for(b"body2")
