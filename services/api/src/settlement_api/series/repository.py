"""Reads of the series slice: the seen streams and summed bucket fields, nothing decided here."""

from __future__ import annotations

from collections.abc import Sequence

from settlement_api.bucket_store import BucketStore, Seen


async def read_seen(store: BucketStore) -> Seen:
    return await store.seen()


async def read_fields(store: BucketStore, fields: Sequence[str]) -> dict[str, int]:
    return await store.sum_fields(fields)
