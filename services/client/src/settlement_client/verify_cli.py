"""`settlement-verify DIR`: check every saved receipt and proof in DIR offline.

    settlement-verify receipts/                 # DIR/checkpoint is the newest checkpoint
    settlement-verify receipts/ --checkpoint latest.checkpoint
    SETTLEMENT_API_KEY=stk_... settlement-verify receipts/ --url https://api.example
                                                # fetch first (settlement_client.log_fetch)

What DIR holds and what is checked: settlement_client.receipts and docs/receipts.md.
Exit status: 0 everything verified, 1 some check failed (each is printed), 2 the folder
could not be checked (no keys or no checkpoint).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx

from settlement_client.log_fetch import FetchError, refresh_folder
from settlement_client.receipts import FolderError, Report, verify_folder

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _write(report: Report, out: TextIO) -> None:
    if report.checkpoint is not None:
        cp = report.checkpoint
        out.write(f"checkpoint: {cp.origin} size {cp.size}\n")
    if report.previous is not None:
        out.write(f"previous checkpoint: size {report.previous.size}\n")
    out.write(
        f"receipts: {report.receipts} (included {report.included}, pending {report.pending})\n"
        f"proofs: {report.proofs}\n"
        f"failed: {len(report.findings)}\n"
    )
    for finding in report.findings:
        out.write(f"  {finding.path}: {finding.reason}\n")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="settlement-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of receipts, proofs and checkpoints")
    parser.add_argument("--checkpoint", type=Path, help="the newest checkpoint (default: DIR/checkpoint)")
    parser.add_argument("--url", help="fetch the newest checkpoint and missing proofs from this API first")
    parser.add_argument("--api-key", default=os.environ.get("SETTLEMENT_API_KEY"), help="default: $SETTLEMENT_API_KEY")
    parser.add_argument(
        "--fetch-keys", action="store_true", help="also (over)write DIR/log-keys.txt from the API (trust on first use)"
    )
    args = parser.parse_args(argv)
    if args.url:
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        try:
            with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
                fetched = refresh_folder(args.folder, client, args.fetch_keys)
        except FetchError as exc:
            sys.stderr.write(f"settlement-verify: {exc}\n")
            return EXIT_UNUSABLE
        out.write(
            f"fetched: {fetched.proofs} proofs ({fetched.pending} not in the log yet), "
            f"{fetched.consistency} consistency proofs\n"
        )
    try:
        report = verify_folder(args.folder, datetime.now(UTC), args.checkpoint)
    except FolderError as exc:
        sys.stderr.write(f"settlement-verify: {exc}\n")
        return EXIT_UNUSABLE
    _write(report, out)
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
