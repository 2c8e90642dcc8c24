"""`settlementctl audit`: print the audit log, newest first (settlement_core.audit)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from settlement_core import audit
from settlement_ctl.context import fail, settings, transaction


def audit_print(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10_000:
        return fail("--limit must be between 1 and 10000")
    with transaction(settings()) as session:
        entries = audit.page(session, before_id=args.before, limit=args.limit)
    for entry in entries:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": entry.id,
                        "at": entry.at.isoformat(),
                        "actor": entry.actor,
                        "action": entry.action,
                        "subject": entry.subject,
                        "detail": entry.detail,
                    },
                    sort_keys=True,
                )
            )
        else:
            detail = json.dumps(entry.detail, sort_keys=True) if entry.detail else ""
            print(
                f"{entry.id}\t{entry.at.isoformat(timespec='seconds')}\t{entry.actor}\t{entry.action}\t{entry.subject}\t{detail}"
            )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("audit", help="print the audit log (admin actions, operator reads), newest first")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--before", type=int, default=None, help="only entries with a smaller id (paging)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=audit_print)
