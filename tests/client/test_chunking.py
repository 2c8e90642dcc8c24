from __future__ import annotations

import itertools
import json

from settlement_client.chunking import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, batch_body, chunks, encode, oversized


def events(n: int, pad: int = 0) -> list[tuple[int, bytes]]:
    return [(i, encode({"event_id": f"E{i}", "note": "x" * pad})) for i in range(n)]


def test_chunks_respect_the_event_limit_and_keep_order() -> None:
    parts = list(chunks(events(2501)))
    assert [len(c.indexes) for c in parts] == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 501]
    assert [i for c in parts for i in c.indexes] == list(range(2501))


def test_chunks_respect_the_byte_limit_exactly() -> None:
    items = events(400, pad=10_000)  # ~10 kB each: about 104 fit in 1 MiB
    parts = list(chunks(items))
    assert len(parts) > 1
    for part in parts:
        assert len(part.body) <= MAX_BATCH_BYTES
    # Greedy: each chunk but the last could not take the next event.
    for part, following in itertools.pairwise(parts):
        assert len(part.body) + 1 + len(following.encoded[0]) > MAX_BATCH_BYTES


def test_body_is_the_json_of_the_events() -> None:
    items = events(3)
    [part] = chunks(items)
    assert json.loads(part.body) == {"events": [json.loads(d) for _, d in items]}
    assert batch_body([]) == b'{"events":[]}'


def test_oversized_event_is_detected() -> None:
    assert oversized(b"x" * (MAX_BATCH_BYTES - 12))
    assert not oversized(b"x" * (MAX_BATCH_BYTES - 13))


def test_encoding_is_stable_so_retries_send_the_same_bytes() -> None:
    event = {"event_id": "E1", "amount": "10.00", "name": "重庆"}
    assert encode(event) == encode(dict(event)) == '{"event_id":"E1","amount":"10.00","name":"重庆"}'.encode()
