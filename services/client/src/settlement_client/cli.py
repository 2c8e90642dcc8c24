"""`settlement-submit`: send a CSV or JSON-lines file of events to the ingest service.

    SETTLEMENT_API_KEY=stk_... settlement-submit events.csv --url https://ingest.example
    settlement-submit events.jsonl --dry-run          # offline: the server's rules, no key
    settlement-submit events.csv --receipts receipts/ # keep each accepted event's receipt
    settlement-submit 2020-01.json --control-totals --api-url https://api.example  # a month's control totals

With --receipts DIR every accepted event's signed receipt (the log's promise, when the
service runs a log) is saved as DIR/<event_id>.receipt.json, the folder `settlement-verify`
checks (docs/receipts.md). Duplicates carry none: their receipt came with the first answer.

With --control-totals the file is a month's control totals (JSON), declared to the API
(settlement_client.control_totals_cli has its format and exit statuses).

Prints a summary (accepted, duplicates, rejected with the line and reasons of each reject).
Exit status: 0 all accepted or duplicates, 1 some rows rejected, 2 the run could not finish
(bad file, bad key, service unavailable past the retry budget).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from settlement_client import control_totals_cli
from settlement_client.client import Client
from settlement_client.errors import Problem, SettlementError
from settlement_client.receipts import save_receipt
from settlement_client.results import ItemResult
from settlement_client.retry import RetryPolicy
from settlement_client.rules import EventRules
from settlement_client.signing import Ed25519Signer, HmacSigner, Signer
from settlement_client.sources import Row, SourceError, guess_format, read_rows, unreadable_reason

logger = logging.getLogger(__name__)

# Rows handed to `submit_batch` at a time: big enough for full 1000-event chunks, small
# enough that a huge file is never held in memory whole.
WINDOW_ROWS = 5000
EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    event_id: str | None
    reason: str


@dataclass
class Summary:
    accepted: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    receipts: int | None = None  # kept with --receipts (fewer than accepted: the service runs no log)

    def add(self, row: Row, result: ItemResult) -> None:
        if result.status == "accepted":
            self.accepted += 1
        elif result.status == "duplicate":
            self.duplicates += 1
        else:
            reason = _reason(result.problem) if result.problem else "rejected"
            if result.problem is not None and result.problem.status != 422:
                reason = f"HTTP {result.problem.status}: {reason}"
            self.rejections.append(Rejection(row.line, result.event_id or _event_id(row), reason))

    def reject(self, row: Row, reason: str) -> None:
        self.rejections.append(Rejection(row.line, _event_id(row), reason))

    def write(self, out: TextIO, dry_run: bool) -> None:
        if dry_run:
            out.write(f"valid: {self.accepted}\n")
        else:
            out.write(f"accepted: {self.accepted}\nduplicates: {self.duplicates}\n")
            if self.receipts is not None:
                out.write(f"receipts kept: {self.receipts}\n")
        out.write(f"rejected: {len(self.rejections)}\n")
        for r in sorted(self.rejections, key=lambda r: r.line):
            out.write(f"  line {r.line} (event_id {r.event_id or '?'}): {r.reason}\n")


_ITEM_PREFIX = re.compile(r"^#/events/[0-9]+")


def _reason(problem: Problem) -> str:
    # Pointers into the batch request mean nothing to someone reading the file: the line
    # says which row, the pointer which field of it.
    if problem.errors:
        return "; ".join(f"{_ITEM_PREFIX.sub('#', e.pointer)}: {e.message}" for e in problem.errors)
    return problem.describe()


def _event_id(row: Row) -> str | None:
    value = row.event.get("event_id") if isinstance(row.event, dict) else None
    return value if isinstance(value, str) else None


class ProgressBar:
    """A one-line bar on stderr, redrawn in place."""

    def __init__(self, total: int, stream: TextIO, enabled: bool, width: int = 30) -> None:
        self.total, self.stream, self.enabled, self.width = total, stream, enabled, width
        self.done = 0

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        filled = self.width * self.done // self.total if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} rows")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _windows(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while window := list(itertools.islice(rows, WINDOW_ROWS)):
        yield window


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="settlement-submit", description="Send settlement events from a CSV or JSON-lines file."
    )
    parser.add_argument(
        "file", type=Path, help="events file: .csv (header row of field names) or .jsonl; or control totals (JSON)"
    )
    parser.add_argument(
        "--control-totals",
        action="store_true",
        help="the file is a month's control totals ({period, lines}); declare them to the API",
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("SETTLEMENT_API_URL"),
        help="the API, for --control-totals; default: $SETTLEMENT_API_URL, else --url",
    )
    parser.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file name's extension")
    parser.add_argument(
        "--url", default=os.environ.get("SETTLEMENT_INGEST_URL", "http://127.0.0.1:8001"), help="ingest service"
    )
    parser.add_argument(
        "--api-key", default=os.environ.get("SETTLEMENT_API_KEY"), help="default: $SETTLEMENT_API_KEY (preferred)"
    )
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument(
        "--hmac-secret",
        default=os.environ.get("SETTLEMENT_HMAC_SECRET"),
        help="sign with HMAC v2 (banks added with --hmac); default: $SETTLEMENT_HMAC_SECRET",
    )
    signing.add_argument(
        "--private-key",
        type=Path,
        default=os.environ.get("SETTLEMENT_PRIVATE_KEY"),
        help="sign with Ed25519 (RFC 9421): PEM private key file; default: $SETTLEMENT_PRIVATE_KEY",
    )
    parser.add_argument(
        "--key-id",
        default=os.environ.get("SETTLEMENT_KEY_ID"),
        help="the keyid registered with 'settlementctl bank key add-public'; default: $SETTLEMENT_KEY_ID",
    )
    parser.add_argument("--receipts", type=Path, help="folder to keep each accepted event's receipt in")
    parser.add_argument("--dry-run", action="store_true", help="validate offline with the server's rules; send nothing")
    parser.add_argument("--currencies", help="comma-separated currencies the service accepts (dry run)")
    parser.add_argument(
        "--retry-for", type=float, default=600.0, help="seconds one request may spend retrying 503/429 (default 600)"
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show the bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.control_totals:
        return _control_totals(args)
    try:
        fmt = args.format or guess_format(args.file)
        total = sum(1 for _ in read_rows(args.file, fmt))
    except (OSError, SourceError, UnicodeDecodeError) as exc:
        print(f"settlement-submit: {exc}", file=sys.stderr)
        return EXIT_FAILED
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = ProgressBar(total, sys.stderr, show)
    summary = Summary()
    rows = read_rows(args.file, fmt)
    if args.dry_run:
        currencies = frozenset(c.strip() for c in args.currencies.split(",")) if args.currencies else None
        _dry_run(rows, EventRules.shipped(currencies), summary, bar)
        summary.write(sys.stdout, dry_run=True)
        return EXIT_REJECTED if summary.rejections else EXIT_OK
    if args.receipts is not None:
        try:
            args.receipts.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"settlement-submit: --receipts: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if not args.api_key:
        print("settlement-submit: an API key is required: set SETTLEMENT_API_KEY or pass --api-key", file=sys.stderr)
        return EXIT_FAILED
    try:
        signer = _signer(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"settlement-submit: --private-key: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.receipts is not None:
        summary.receipts = 0
    status = _send(args, rows, summary, bar, signer)
    summary.write(sys.stdout, dry_run=False)
    if status != EXIT_OK:
        return status
    return EXIT_REJECTED if summary.rejections else EXIT_OK


def _control_totals(args: argparse.Namespace) -> int:
    if not args.api_key:
        print("settlement-submit: an API key is required: set SETTLEMENT_API_KEY or pass --api-key", file=sys.stderr)
        return EXIT_FAILED
    try:
        signer = _signer(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"settlement-submit: --private-key: {exc}", file=sys.stderr)
        return EXIT_FAILED
    policy = RetryPolicy(max_elapsed_s=args.retry_for)
    with Client(args.url, args.api_key, signer=signer, retry=policy, api_url=args.api_url or args.url) as client:
        return control_totals_cli.run(client, args.file, sys.stdout, sys.stderr)


def _dry_run(rows: Iterator[Row], rules: EventRules, summary: Summary, bar: ProgressBar) -> None:
    today = rules.today()
    for row in rows:
        reason = unreadable_reason(row.event)
        errors = () if reason else rules.check(row.event, today)
        if reason:
            summary.reject(row, reason)
        elif errors:
            summary.reject(row, "; ".join(f"{e.pointer}: {e.message}" for e in errors))
        else:
            summary.accepted += 1
        bar.advance(1)


def _signer(args: argparse.Namespace) -> Signer | None:
    """HMAC v2 with --hmac-secret, Ed25519 with --private-key (and --key-id), else none."""
    if args.private_key is not None and args.hmac_secret:
        # The environment may carry one and the command line the other: the key wins.
        args.hmac_secret = None
    if args.private_key is not None:
        if not args.key_id:
            raise ValueError("--key-id (or $SETTLEMENT_KEY_ID) names the registered key")
        password = os.environ.get("SETTLEMENT_PRIVATE_KEY_PASSWORD")
        return Ed25519Signer.from_file(Path(args.private_key), args.key_id, password.encode() if password else None)
    if args.hmac_secret:
        return HmacSigner(args.hmac_secret)
    return None


def _send(
    args: argparse.Namespace, rows: Iterator[Row], summary: Summary, bar: ProgressBar, signer: Signer | None
) -> int:
    policy = RetryPolicy(max_elapsed_s=args.retry_for)
    with Client(args.url, args.api_key, signer=signer, retry=policy) as client:
        for window in _windows(rows):
            sendable: list[Row] = []
            for row in window:
                reason = unreadable_reason(row.event)
                if reason:
                    summary.reject(row, reason)
                    bar.advance(1)
                else:
                    sendable.append(row)
            try:
                result = client.submit_batch([r.event for r in sendable], progress=bar.advance)
            except SettlementError as exc:
                # A whole request failed for good (bad key, service away past the budget):
                # the rows from this window on were not all sent; say so plainly.
                print(
                    f"\nsettlement-submit: stopped at line {sendable[0].line}: {exc}; "
                    "rows from there on may not have been accepted (re-running the file is safe)",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            for row, item in zip(sendable, result.results, strict=True):
                summary.add(row, item)
                if args.receipts is not None and item.receipt is not None:
                    save_receipt(args.receipts, item.receipt)
                    summary.receipts = (summary.receipts or 0) + 1
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
