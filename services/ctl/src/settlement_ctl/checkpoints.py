"""`settlementctl checkpoint`: write a knowledge checkpoint now (settlement_api.kit.checkpoints),
so that known_at reads from now on sum it and the effects committed after it. The API writes
them periodically too (KNOWN_AT_CHECKPOINT_SECONDS, hourly); this is for an operator or a scheduler,
and for the benchmark after a bulk load."""

from __future__ import annotations

import argparse
import time
from typing import Any

from settlement_api.kit.checkpoints import checkpoint_once
from settlement_api.settings import ApiSettings
from settlement_core.catalogue import load_catalogue
from settlement_core.db.engine import make_engine


def run(args: argparse.Namespace) -> int:
    settings = ApiSettings()  # the catalogue's rules are the fallback before any recorded set
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        catalogue = load_catalogue(settings.targets_file)
        started = time.monotonic()
        written = checkpoint_once(engine, catalogue.rules, settings.known_at_checkpoints_kept)
    finally:
        engine.dispose()
    if written is None:
        print("no checkpoint written: nothing committed since the last one, or another writer is at work")
        return 0
    base = "the whole ledger" if written.built_on is None else f"checkpoint {written.built_on} and its tail"
    print(
        f"checkpoint {written.id} at {written.at.isoformat()}: {written.groups} groups "
        f"from {base}, in {time.monotonic() - started:.1f} s"
    )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("checkpoint", help="knowledge time: write a checkpoint for known_at reads now")
    parser.set_defaults(handler=run)
