"""`settlementctl log verify`: recompute the transparency log from the ledger and name the
first leaf that no longer matches (settlement_core.tlog.audit does the work; this module
reads the settings, runs it in one read-only snapshot and prints). See docs/receipts.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError

from settlement_client.tlog.note import NoteError, VerifierKey
from settlement_core.db.engine import make_engine
from settlement_core.tlog.audit import AuditFinding, AuditReport, audit_log
from settlement_core.tlog.settings import LogAuditSettings

HELP = """\
Recompute the transparency log from the ledger and check it against the signed checkpoint.

In one read-only REPEATABLE READ snapshot of PostgreSQL: every leaf of the log is rebuilt
from its ledger_events row exactly as the integrator builds it (the body hash of the row's
fields, ingested_at, the salt derived with TLOG_SALT_KEY); the newest checkpoint's
signature is verified with the log's public keys; the logged leaf hashes and the tree
recomputed from the ledger must both give the checkpoint's size and root.

Prints one JSON object. Exit 0: everything matches ("verified": the size and root). Exit 1:
something does not; "first" names the first leaf that no longer matches (its index,
bank_id, event_id and kind: changed = the row was edited, with "differs" saying what;
deleted = the row is gone; extra = a ledger row the log should hold and does not; log or
checkpoint = the log's own tables or its checkpoint), "findings" lists up to 100 in index
order. Exit 2: it could not run (settings, keys, database).

Environment: DATABASE_URL; TLOG_SALT_KEY (secret); the log's public keys in
TLOG_VERIFIER_KEYS (space-separated, as GET /v1/log/keys prints them) and
TLOG_RETIRED_KEYS, or --keys FILE; TLOG_ORIGIN (default: the keys' name). The keys are
taken from outside the database on purpose: tlog_keys is part of what is audited.
"""


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


def _finding(f: AuditFinding) -> dict[str, Any]:
    return {
        "kind": f.kind.value,
        "index": f.index,
        "ledger_row_id": f.ledger_row_id,
        "bank_id": f.bank_id,
        "event_id": f.event_id,
        "reason": f.reason,
        "differs": [{"member": d.member, "logged": d.logged, "ledger": d.ledger} for d in f.differs],
    }


def report_json(origin: str, report: AuditReport) -> dict[str, Any]:
    checkpoint = (
        None
        if report.checkpoint_root is None
        else {"size": report.checkpoint_size, "root": _b64(report.checkpoint_root)}
    )
    return {
        "ok": report.ok,
        "origin": origin,
        "verified": checkpoint if report.ok else None,
        "leaves": report.leaves,
        "checkpoint": checkpoint,
        "log": {"size": report.leaves, "root": _b64(report.log_root)},
        "ledger": {"size": report.ledger_size, "root": _b64(report.ledger_root)},
        "first": _finding(report.findings[0]) if report.findings else None,
        "findings": [_finding(f) for f in report.findings],
        "findings_total": report.findings_total,
    }


def _summary(report: AuditReport) -> str:
    if report.ok:
        root = _b64(report.checkpoint_root) if report.checkpoint_root is not None else "(no checkpoint yet)"
        return f"log verify: OK, {report.checkpoint_size} leaves, root {root}"
    first = report.findings[0]
    where = f"leaf {first.index}" if first.index is not None else "the log"
    who = f" ({first.bank_id}/{first.event_id})" if first.event_id is not None else ""
    return (
        f"log verify: FAILED, {report.findings_total} findings; first: {where}{who} {first.kind.value}: {first.reason}"
    )


def _unusable(message: str) -> int:
    print(f"settlementctl log verify: {message}", file=sys.stderr)
    return 2


def run_verify(args: argparse.Namespace) -> int:
    try:
        settings = LogAuditSettings()
        salt_key = settings.salt_key()
        trusted = settings.verifier_keys()
        if args.keys is not None:
            trusted += [VerifierKey.parse(line) for line in Path(args.keys).read_text().split()]
    except (ValidationError, ValueError, NoteError, OSError) as exc:
        return _unusable(f"settings: {exc}")
    if not trusted:
        return _unusable("no public keys of the log: set TLOG_VERIFIER_KEYS (GET /v1/log/keys) or pass --keys FILE")
    names = {k.name for k in trusted}
    origin = settings.tlog_origin or (names.pop() if len(names) == 1 else None)
    if origin is None:
        return _unusable(f"the keys name {len(names)} logs: set TLOG_ORIGIN")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        conn = engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn, conn.begin():
            report = audit_log(conn, salt_key, origin, trusted)
    except OperationalError as exc:
        return _unusable(f"database: {str(exc).splitlines()[0]}")
    except ProgrammingError as exc:  # e.g. a schema before migration 0008
        return _unusable(f"database: {str(exc).splitlines()[0]} (is the schema at head? settlementctl init)")
    finally:
        engine.dispose()
    print(json.dumps(report_json(origin, report), indent=2))
    print(_summary(report), file=sys.stderr)
    return 0 if report.ok else 1


def register(commands: Any) -> None:
    log = commands.add_parser("log", help="the transparency log over the ledger (receipts)").add_subparsers(
        dest="log_command", required=True
    )
    verify = log.add_parser(
        "verify",
        help="recompute the log from the ledger; name the first leaf that no longer matches (exit 1)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "--keys", metavar="FILE", default=None, help="the log's public keys, one per line (GET /v1/log/keys)"
    )
    verify.set_defaults(handler=run_verify)
