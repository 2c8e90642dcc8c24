"""`settlementctl bank|key`: register banks and manage their API keys, HMAC secrets and
Ed25519 public keys.

Keys and secrets are printed exactly once. API keys are stored only as their SHA-256; HMAC
secrets only sealed under SECRETS_ENCRYPTION_KEY (settlement_core.secret_box). Revoking or
rotating a key also marks its hash revoked in Redis, so ingest and the API (which cache
principals for a few seconds) answer 401 to the old key from the next request on. Every
change writes an audit_log entry in the same transaction (settlement_core.audit).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
from sqlalchemy import select

from settlement_core import audit
from settlement_core.auth import generate_hmac_secret, generate_key, hash_key
from settlement_core.bank_limits import DEFAULT_BURST, DEFAULT_RATE_PER_SECOND
from settlement_core.db.models import Bank, BankPublicKey
from settlement_core.identifiers import BANK_ID_PATTERN
from settlement_core.secret_box import SecretBox, SecretsKeyMissing, hmac_context
from settlement_ctl import api_keys
from settlement_ctl.context import fail, settings, transaction

BIC_PATTERN = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
DURATION_PATTERN = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `24h`, `7d` (one number and unit)."""
    match = DURATION_PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 24h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])


def read_public_key(value: str) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given as a PEM file, PEM text, or the
    base64 of the raw key."""
    path = Path(value)
    text = path.read_text() if len(value) < 4096 and "\n" not in value and path.is_file() else value
    if "-----BEGIN" in text:
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a PEM public key, a readable PEM file, or base64 of 32 raw bytes") from None
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 public key is 32 bytes")
    Ed25519PublicKey.from_public_bytes(raw)
    return raw


def _box() -> SecretBox | None:
    try:
        return SecretBox.from_env()
    except SecretsKeyMissing as exc:
        fail(str(exc))
        return None


def bank_add(args: argparse.Namespace) -> int:
    if not BANK_ID_PATTERN.fullmatch(args.bank_id):
        return fail("bank_id must be 1-32 characters of A-Z a-z 0-9 . _ -")
    bic = args.bic.upper() if args.bic else None
    if bic is not None and not BIC_PATTERN.fullmatch(bic):
        return fail(f"{args.bic!r} is not a BIC (8 or 11 characters, e.g. ICBKCNBJCQG)")
    if args.rate_limit < 1 or args.burst < 1:
        return fail("--rate-limit and --burst must be at least 1")
    config = settings()
    key = generate_key()
    secret = generate_hmac_secret() if args.hmac else None
    box = _box() if secret is not None else None
    if secret is not None and box is None:
        return 1
    with transaction(config) as session:
        if session.get(Bank, args.bank_id) is not None:
            return fail(f"bank {args.bank_id!r} already exists; use 'key rotate' for a new key")
        session.add(
            Bank(
                bank_id=args.bank_id,
                name=args.name,
                bic=bic,
                key_hash=hash_key(key),
                hmac_secret_enc=box.seal(secret, hmac_context(args.bank_id)) if box and secret else None,
                active=True,
                rate_per_second=args.rate_limit,
                burst=args.burst,
            )
        )
        audit.record(
            session,
            audit.cli_actor(),
            "bank.add",
            args.bank_id,
            {"hmac": secret is not None, "rate_per_second": args.rate_limit, "burst": args.burst},
        )
    print(f"bank {args.bank_id} added. Store these now; they are not shown again.")
    print(f"api_key: {key}")
    if secret is not None:
        print(f"hmac_secret: {secret}")
    return 0


def key_rotate(args: argparse.Namespace) -> int:
    return api_keys.rotate("bank", args.bank_id)


def key_revoke(args: argparse.Namespace) -> int:
    return api_keys.revoke("bank", args.bank_id, "key rotate")


def hmac_rotate(args: argparse.Namespace) -> int:
    """A new HMAC secret; the current one stays valid for the overlap so the bank can switch
    without a failed request. A second rotation within the overlap ends the older secret."""
    try:
        overlap = parse_duration(args.overlap)
    except ValueError as exc:
        return fail(str(exc))
    box = _box()
    if box is None:
        return 1
    secret = generate_hmac_secret()
    now = datetime.now(UTC)
    with transaction(settings()) as session:
        bank = session.execute(select(Bank).where(Bank.bank_id == args.bank_id).with_for_update()).scalar_one_or_none()
        if bank is None:
            return fail(f"no bank {args.bank_id!r}")
        had_secret = bank.hmac_secret_enc is not None
        keep_old = had_secret and overlap > timedelta(0)
        bank.hmac_previous_enc = bank.hmac_secret_enc if keep_old else None
        bank.hmac_previous_until = now + overlap if keep_old else None
        bank.hmac_secret_enc = box.seal(secret, hmac_context(args.bank_id))
        audit.record(
            session,
            audit.cli_actor(),
            "bank.hmac.rotate",
            args.bank_id,
            {"overlap_s": int(overlap.total_seconds()) if keep_old else 0, "previous_kept": keep_old},
        )
    print(f"HMAC secret of bank {args.bank_id} rotated. Store this now; it is not shown again.")
    if keep_old:
        print(f"the previous secret stays valid until {(now + overlap).isoformat(timespec='seconds')}")
    print(f"hmac_secret: {secret}")
    return 0


def public_key_add(args: argparse.Namespace) -> int:
    if not KEY_ID_PATTERN.fullmatch(args.key_id):
        return fail("--key-id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    try:
        raw = read_public_key(args.public_key)
    except (ValueError, OSError) as exc:
        return fail(f"--public-key: {exc}")
    with transaction(settings()) as session:
        if session.get(Bank, args.bank_id) is None:
            return fail(f"no bank {args.bank_id!r}")
        if session.get(BankPublicKey, (args.bank_id, args.key_id)) is not None:
            return fail(f"bank {args.bank_id!r} already has a key {args.key_id!r}; remove it first or pick another id")
        session.add(BankPublicKey(bank_id=args.bank_id, key_id=args.key_id, algorithm="ed25519", public_key=raw))
        audit.record(
            session,
            audit.cli_actor(),
            "bank.public_key.add",
            args.bank_id,
            {"key_id": args.key_id, "fingerprint_sha256": hashlib.sha256(raw).hexdigest()},
        )
    print(
        f"Ed25519 key {args.key_id} added to bank {args.bank_id}; "
        "from now on every request of this bank must carry an RFC 9421 signature"
    )
    return 0


def public_key_list(args: argparse.Namespace) -> int:
    with transaction(settings()) as session:
        if session.get(Bank, args.bank_id) is None:
            return fail(f"no bank {args.bank_id!r}")
        rows = session.execute(
            select(BankPublicKey).where(BankPublicKey.bank_id == args.bank_id).order_by(BankPublicKey.key_id)
        ).scalars()
        for row in rows:
            raw = bytes(row.public_key)
            print(
                f"{row.key_id}\t{row.algorithm}\t{base64.b64encode(raw).decode()}\t"
                f"sha256:{hashlib.sha256(raw).hexdigest()[:16]}\t{row.created_at.isoformat(timespec='seconds')}"
            )
    return 0


def public_key_remove(args: argparse.Namespace) -> int:
    with transaction(settings()) as session:
        row = session.get(BankPublicKey, (args.bank_id, args.key_id))
        if row is None:
            return fail(f"bank {args.bank_id!r} has no key {args.key_id!r}")
        session.delete(row)
        audit.record(session, audit.cli_actor(), "bank.public_key.remove", args.bank_id, {"key_id": args.key_id})
    print(f"key {args.key_id} of bank {args.bank_id} removed (ingest stops accepting it within 5 s)")
    return 0


def secrets_reencrypt(args: argparse.Namespace) -> int:
    """Re-seal every stored HMAC secret under the current SECRETS_ENCRYPTION_KEY (after a key
    rotation, with the old key as SECRETS_ENCRYPTION_KEY_PREVIOUS)."""
    box = _box()
    if box is None:
        return 1
    resealed = 0
    with transaction(settings()) as session:
        banks = session.execute(
            select(Bank)
            .where(Bank.hmac_secret_enc.is_not(None) | Bank.hmac_previous_enc.is_not(None))
            .with_for_update()
        ).scalars()
        for bank in banks:
            context = hmac_context(bank.bank_id)
            if bank.hmac_secret_enc is not None and not box.sealed_with_current(bank.hmac_secret_enc):
                bank.hmac_secret_enc = box.seal(box.open(bank.hmac_secret_enc, context), context)
                resealed += 1
            if bank.hmac_previous_enc is not None and not box.sealed_with_current(bank.hmac_previous_enc):
                bank.hmac_previous_enc = box.seal(box.open(bank.hmac_previous_enc, context), context)
                resealed += 1
        audit.record(session, audit.cli_actor(), "secrets.reencrypt", "banks", {"resealed": resealed})
    print(f"{resealed} secret(s) re-sealed under the current key")
    return 0


def register(commands: Any) -> None:
    bank = commands.add_parser("bank", help="register banks and manage their credentials").add_subparsers(
        dest="bank_command", required=True
    )
    add = bank.add_parser("add", help="register a bank and print its API key once")
    add.add_argument("bank_id")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--bic", help="BIC8/BIC11; needed to read pacs messages' direction")
    add.add_argument(
        "--hmac", action="store_true", help="require signed requests (X-Signature v2); prints the secret once"
    )
    add.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_PER_SECOND, help="events per second")
    add.add_argument("--burst", type=int, default=DEFAULT_BURST, help="token bucket size (events)")
    add.set_defaults(handler=bank_add)

    hmac_group = bank.add_parser("hmac", help="the bank's HMAC signing secret").add_subparsers(
        dest="hmac_command", required=True
    )
    hmac_rot = hmac_group.add_parser("rotate", help="issue a new secret; the old one stays valid for --overlap")
    hmac_rot.add_argument("bank_id")
    hmac_rot.add_argument("--overlap", default="24h", help="how long the previous secret stays valid (default 24h)")
    hmac_rot.set_defaults(handler=hmac_rotate)

    pub = bank.add_parser("key", help="the bank's Ed25519 public keys (RFC 9421)").add_subparsers(
        dest="bank_key_command", required=True
    )
    pub_add = pub.add_parser("add-public", help="register a public key; the bank must then sign every request")
    pub_add.add_argument("bank_id")
    pub_add.add_argument("--key-id", required=True, help="the keyid the bank puts in Signature-Input")
    pub_add.add_argument("--public-key", required=True, help="PEM file, PEM text, or base64 of the raw 32 bytes")
    pub_add.set_defaults(handler=public_key_add)
    pub_list = pub.add_parser("list", help="list the bank's public keys")
    pub_list.add_argument("bank_id")
    pub_list.set_defaults(handler=public_key_list)
    pub_rm = pub.add_parser("remove", help="remove a public key")
    pub_rm.add_argument("bank_id")
    pub_rm.add_argument("--key-id", required=True)
    pub_rm.set_defaults(handler=public_key_remove)

    key = commands.add_parser("key", help="rotate or revoke a bank's API key").add_subparsers(
        dest="key_command", required=True
    )
    rotate = key.add_parser("rotate", help="issue a new key; the old one stops working")
    rotate.add_argument("bank_id")
    rotate.set_defaults(handler=key_rotate)
    revoke = key.add_parser("revoke", help="disable the bank's key at once")
    revoke.add_argument("bank_id")
    revoke.set_defaults(handler=key_revoke)

    secrets_group = commands.add_parser("secrets", help="secrets at rest").add_subparsers(
        dest="secrets_command", required=True
    )
    reseal = secrets_group.add_parser("reencrypt", help="re-seal stored HMAC secrets under SECRETS_ENCRYPTION_KEY")
    reseal.set_defaults(handler=secrets_reencrypt)
