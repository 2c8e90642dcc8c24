"""Entry point of `settlementctl`. Each command group lives in its own module and
registers its sub-commands here."""

from __future__ import annotations

import argparse
import sys

from settlement_core.logs import configure_logging
from settlement_ctl import audit_log, banks, checkpoints, init, ledger_tools, log_verify, operators, releases


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="settlementctl",
        description="Operate the settlement volume tracker. Reads DATABASE_URL, REDIS_URL, "
        "KAFKA_BOOTSTRAP and TARGETS_FILE from the environment (deploy/local/stack.sh env).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init.register(commands)
    banks.register(commands)
    operators.register(commands)
    audit_log.register(commands)
    ledger_tools.register(commands)
    log_verify.register(commands)
    releases.register(commands)
    checkpoints.register(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    configure_logging("WARNING")
    args = build_parser().parse_args(argv)
    sys.exit(args.handler(args))
