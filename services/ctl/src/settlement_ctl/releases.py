"""`settlementctl release create --period 2020 --kind preliminary|final --note "..."`:
freeze a period's figures as known now (settlement_api.releases; audited `release.create`)."""

from __future__ import annotations

import argparse
from typing import Any

from settlement_api.releases.service import ReleaseRefused, create_release
from settlement_api.settings import ApiSettings
from settlement_core.catalogue import load_catalogue
from settlement_core.db.engine import make_engine
from settlement_ctl.context import fail


def run_create(args: argparse.Namespace) -> int:
    settings = ApiSettings()  # the figures exactly as the API reads them: catalogue, timezone
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        catalogue = load_catalogue(settings.targets_file)
        release_id = create_release(engine, catalogue, args.period, args.kind, args.note, settings.business_timezone)
    except ReleaseRefused as exc:
        return fail(str(exc))
    finally:
        engine.dispose()
    print(f"release {release_id} created: {args.kind} release of {args.period} (GET /v1/releases/{release_id})")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("release", help="publication: freeze a period's figures as a release")
    sub = parser.add_subparsers(dest="release_command", required=True)
    create = sub.add_parser("create", help="freeze every target's figure of a period as known now")
    create.add_argument("--period", required=True, help="a target period of the catalogue, e.g. 2020")
    create.add_argument("--kind", required=True, choices=("preliminary", "final"))
    create.add_argument("--note", required=True, help="what the release is and why now (shown with it)")
    create.set_defaults(handler=run_create)
