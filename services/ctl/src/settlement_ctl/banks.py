"""`settlementctl bank|key|operator`: register banks and operators and manage their keys.

Keys are printed exactly once and stored only as their SHA-256. Revoking or rotating a key
also marks its hash revoked in Redis, so ingest (which caches principals for a few
seconds) answers 401 to the old key from the next request on.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from settlement_core.auth import forget_key, generate_hmac_secret, generate_key, hash_key
from settlement_core.bank_limits import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
from settlement_core.db.engine import make_engine
from settlement_core.db.models import Bank, Operator
from settlement_core.events import BANK_ID_PATTERN
from settlement_core.redis_io import RedisUnavailable, sync_client, translate_errors
from settlement_core.settings import CoreSettings

BIC_PATTERN = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
OPERATOR_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _settings() -> CoreSettings:
    return CoreSettings()  # from the environment (deploy/local/stack.sh env)


def _fail(message: str) -> int:
    print(f"settlementctl: {message}", file=sys.stderr)
    return 1


def _forget(settings: CoreSettings, key_hash: str | None) -> None:
    if key_hash is None:
        return
    try:
        with translate_errors():
            forget_key(sync_client(settings.redis_url, mode=settings.redis_mode), key_hash)
    except RedisUnavailable as exc:
        print(
            f"warning: Redis unreachable ({exc}); ingest may accept the old key for up to 30 s until its cache expires",
            file=sys.stderr,
        )


def bank_add(args: argparse.Namespace) -> int:
    if not BANK_ID_PATTERN.fullmatch(args.bank_id):
        return _fail("bank_id must be 1-32 characters of A-Z a-z 0-9 . _ -")
    bic = args.bic.upper() if args.bic else None
    if bic is not None and not BIC_PATTERN.fullmatch(bic):
        return _fail(f"{args.bic!r} is not a BIC (8 or 11 characters, e.g. ICBKCNBJCQG)")
    if args.rate_limit < 1 or args.burst < 1:
        return _fail("--rate-limit and --burst must be at least 1")
    settings = _settings()
    key = generate_key()
    secret = generate_hmac_secret() if args.hmac else None
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            if session.get(Bank, args.bank_id) is not None:
                return _fail(f"bank {args.bank_id!r} already exists; use 'key rotate' for a new key")
            session.add(
                Bank(
                    bank_id=args.bank_id,
                    name=args.name,
                    bic=bic,
                    key_hash=hash_key(key),
                    hmac_secret=secret,
                    active=True,
                    rate_per_second=args.rate_limit,
                    burst=args.burst,
                )
            )
    finally:
        engine.dispose()
    print(f"bank {args.bank_id} added. Store these now; they are not shown again.")
    print(f"api_key: {key}")
    if secret is not None:
        print(f"hmac_secret: {secret}")
    return 0


def _set_key(bank_id: str, new_key: str | None) -> tuple[bool, str | None]:
    """Replace a bank's key hash; returns (found, old hash)."""
    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            bank = session.execute(select(Bank).where(Bank.bank_id == bank_id).with_for_update()).scalar_one_or_none()
            if bank is None:
                return False, None
            old = bank.key_hash
            bank.key_hash = hash_key(new_key) if new_key is not None else None
            bank.active = new_key is not None
            bank.key_rotated_at = datetime.now(UTC)
    finally:
        engine.dispose()
    # After the commit: a request racing the revocation cannot re-cache the old principal.
    _forget(settings, old)
    return True, old


def key_rotate(args: argparse.Namespace) -> int:
    key = generate_key()
    found, _ = _set_key(args.bank_id, key)
    if not found:
        return _fail(f"no bank {args.bank_id!r}")
    print(f"key of bank {args.bank_id} rotated; the old key no longer works. Store this now; it is not shown again.")
    print(f"api_key: {key}")
    return 0


def key_revoke(args: argparse.Namespace) -> int:
    found, _ = _set_key(args.bank_id, None)
    if not found:
        return _fail(f"no bank {args.bank_id!r}")
    print(f"key of bank {args.bank_id} revoked; 'key rotate' issues a new one")
    return 0


def operator_add(args: argparse.Namespace) -> int:
    if not OPERATOR_PATTERN.fullmatch(args.name):
        return _fail("operator name must be 1-64 characters of A-Z a-z 0-9 . _ -")
    settings = _settings()
    key = generate_key()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            if session.get(Operator, args.name) is not None:
                return _fail(f"operator {args.name!r} already exists")
            session.add(Operator(name=args.name, key_hash=hash_key(key), active=True))
    finally:
        engine.dispose()
    print(f"operator {args.name} added (read-only). Store this now; it is not shown again.")
    print(f"api_key: {key}")
    return 0


def register(commands: Any) -> None:
    bank = commands.add_parser("bank", help="register banks").add_subparsers(dest="bank_command", required=True)
    add = bank.add_parser("add", help="register a bank and print its API key once")
    add.add_argument("bank_id")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--bic", help="BIC8/BIC11; needed to read pacs messages' direction")
    add.add_argument(
        "--hmac", action="store_true", help="require signed requests (X-Signature); prints the secret once"
    )
    add.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_PER_SECOND, help="events per second")
    add.add_argument("--burst", type=int, default=DEFAULT_BURST, help="token bucket size (events)")
    add.set_defaults(handler=bank_add)

    key = commands.add_parser("key", help="rotate or revoke a bank's API key").add_subparsers(
        dest="key_command", required=True
    )
    rotate = key.add_parser("rotate", help="issue a new key; the old one stops working")
    rotate.add_argument("bank_id")
    rotate.set_defaults(handler=key_rotate)
    revoke = key.add_parser("revoke", help="disable the bank's key at once")
    revoke.add_argument("bank_id")
    revoke.set_defaults(handler=key_revoke)

    operator = commands.add_parser("operator", help="register read-only operators")
    op_add = operator.add_subparsers(dest="operator_command", required=True).add_parser(
        "add", help="register an operator and print its key once"
    )
    op_add.add_argument("name")
    op_add.set_defaults(handler=operator_add)
