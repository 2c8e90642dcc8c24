"""`settlementctl operator add|rotate|revoke`: read-only operator keys with a lifecycle.

A key is printed once and stored as its SHA-256; rotation and revocation are
`settlement_ctl.api_keys`, shared with banks' keys. Each change writes an audit_log entry.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from settlement_core import audit
from settlement_core.auth import generate_key, hash_key
from settlement_core.db.models import Operator
from settlement_ctl import api_keys
from settlement_ctl.context import fail, settings, transaction

OPERATOR_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def operator_add(args: argparse.Namespace) -> int:
    if not OPERATOR_PATTERN.fullmatch(args.name):
        return fail("operator name must be 1-64 characters of A-Z a-z 0-9 . _ -")
    key = generate_key()
    with transaction(settings()) as session:
        if session.get(Operator, args.name) is not None:
            return fail(f"operator {args.name!r} already exists; use 'operator rotate' for a new key")
        session.add(Operator(name=args.name, key_hash=hash_key(key), active=True))
        audit.record(session, audit.cli_actor(), "operator.add", args.name)
    print(f"operator {args.name} added (read-only). Store this now; it is not shown again.")
    print(f"api_key: {key}")
    return 0


def operator_rotate(args: argparse.Namespace) -> int:
    return api_keys.rotate("operator", args.name)


def operator_revoke(args: argparse.Namespace) -> int:
    return api_keys.revoke("operator", args.name, "operator rotate")


def register(commands: Any) -> None:
    operator = commands.add_parser("operator", help="read-only operators and their keys").add_subparsers(
        dest="operator_command", required=True
    )
    add = operator.add_parser("add", help="register an operator and print its key once")
    add.add_argument("name")
    add.set_defaults(handler=operator_add)
    rotate = operator.add_parser("rotate", help="issue a new key; the old one stops working at once")
    rotate.add_argument("name")
    rotate.set_defaults(handler=operator_rotate)
    revoke = operator.add_parser("revoke", help="disable the operator's key at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=operator_revoke)
