"""Micro-benchmark of what the transparency log adds to ingest per accepted event (issue 29):
CPU microseconds of the receipt promise (`ReceiptIssuer.issue` and `receipt_json`, as ingest
calls them for every accepted event) and of its parts, and the bytes it adds to a batch
answer. It says where the `receipts` stage's cost sits inside ingest.

Pure CPU, no servers: `python -m bench.stages.receipt_micro [--events N] [--reps N]`.
Each figure is the best of `--reps` passes (the least disturbed by other processes); the
line printed gives the load average it ran under.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from settlement_client.tlog.leaf import Leaf, received_at_text
from settlement_client.tlog.note import key_id
from settlement_core.tlog.issuer import ReceiptIssuer, receipt_json
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import derive_salt

ORIGIN = "bench.settlement-tracker.local/log"
BANK = "bench-bank-001"
BODY_SHA256 = "5b" * 32


def best_us_per_call(fn: Callable[[int], object], calls: int, reps: int) -> float:
    """Process CPU µs per call, the best of `reps` passes of `calls` calls."""
    best = float("inf")
    for _ in range(reps):
        started = time.process_time()
        for i in range(calls):
            fn(i)
        best = min(best, time.process_time() - started)
    return best / calls * 1e6


def measure(events: int, reps: int) -> dict[str, float]:
    issuer = ReceiptIssuer(LogKeys(ORIGIN, SigningKey.generate(ORIGIN)), os.urandom(32), 3600)
    raw_key = Ed25519PrivateKey.generate()
    public = raw_key.public_key().public_bytes_raw()
    now = datetime.now(UTC)
    stamp = received_at_text(now)
    salt = derive_salt(issuer.salt_key, BANK, "e-0")
    sample = issuer.issue(bank_id=BANK, event_id="e-0", body_sha256=BODY_SHA256, received_at=now)
    promise_text = sample.promise.split("\n\n", 1)[0].encode() + b"\n"

    def issue(i: int) -> object:
        receipt = issuer.issue(bank_id=BANK, event_id=f"e-{i}", body_sha256=BODY_SHA256, received_at=now)
        return receipt_json(receipt)

    total = best_us_per_call(issue, events, reps)
    parts = {
        "  Ed25519 sign of the promise text (cryptography)": best_us_per_call(
            lambda i: raw_key.sign(promise_text), events, reps
        ),
        "  leaf: Leaf(...) + RFC 8785 JSON + SHA-256": best_us_per_call(
            lambda i: Leaf(BANK, f"e-{i}", BODY_SHA256, stamp, salt).leaf_hash(), events, reps
        ),
        "  note key id (SHA-256, recomputed per signature)": best_us_per_call(
            lambda i: key_id(ORIGIN, public), events, reps
        ),
        "  salt: HMAC-SHA256": best_us_per_call(lambda i: derive_salt(issuer.salt_key, BANK, f"e-{i}"), events, reps),
        "  receipt_json (Leaf.as_json, a dict)": best_us_per_call(lambda i: receipt_json(sample), events, reps),
    }
    # Promise and note objects, their validation and text, the timestamp text.
    rest = {"  the rest (total minus the parts above)": total - sum(parts.values())}
    return {"issue + receipt_json (ingest's per-event addition)": total, **parts, **rest}


def answer_bytes() -> tuple[int, int]:
    """Bytes of one batch answer item without and with its receipt (as ingest writes it)."""
    issuer = ReceiptIssuer(LogKeys(ORIGIN, SigningKey.generate(ORIGIN)), os.urandom(32), 3600)
    receipt = issuer.issue(bank_id=BANK, event_id="e-000000001", body_sha256=BODY_SHA256, received_at=datetime.now(UTC))
    item = {"index": 0, "event_id": "e-000000001", "status": "accepted"}
    with_receipt = {**item, "receipt": receipt_json(receipt)}
    return len(json.dumps(item)), len(json.dumps(with_receipt))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages.receipt_micro", description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"receipt promise, CPU µs per event, best of {args.reps} × {args.events:,} (load average {load}):")
    for name, value in measure(args.events, args.reps).items():
        print(f"{value:8.1f}  {name}")
    plain, signed = answer_bytes()
    print(f"batch answer item: {plain} B without the receipt, {signed} B with it")


if __name__ == "__main__":
    main()
