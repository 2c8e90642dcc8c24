"""Deterministic demo feed: registers a few demo banks and POSTs a realistic stream of
settlement events to ingest, so `make run` shows progress moving toward the six targets.

    python -m settlement_ctl.demo_feed --ingest http://127.0.0.1:8001 [--seed 2020] [--rate 40]

The same seed produces the same events (ids, amounts, dates), so reruns are duplicates, not
new volume. Keys of the demo banks are kept in $STACK_DIR/demo-keys.json (mode 0600).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from settlement_core.auth import generate_key, hash_key
from settlement_core.db.engine import make_engine
from settlement_core.db.models import Bank
from settlement_core.logs import configure_logging
from settlement_core.settings import CoreSettings
from settlement_core.targets import Target, load_targets

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoBank:
    bank_id: str
    name: str
    bic: str
    weight: int


DEMO_BANKS = (
    DemoBank("demo-cqrcb", "Chongqing Rural Commercial Bank (demo)", "CRCBCNBJ", 5),
    DemoBank("demo-cqcb", "Bank of Chongqing (demo)", "CQCBCN22", 4),
    DemoBank("demo-boc-cq", "Bank of China Chongqing Branch (demo)", "BKCHCNBJ", 6),
    DemoBank("demo-icbc-cq", "ICBC Chongqing Branch (demo)", "ICBKCNBJ", 6),
    DemoBank("demo-hsbc-cq", "HSBC Chongqing Branch (demo)", "HSBCCNSH", 2),
)

# Currency mix per category: cross-border RMB is by definition in CNY, offshore business is
# mostly in dollars, e-commerce mixes both.
CURRENCY_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "cross_border_rmb": (("CNY", 1),),
    "cross_border_ecommerce": (("CNY", 6), ("USD", 3), ("EUR", 1)),
    "mnc_headquarters": (("CNY", 7), ("USD", 2), ("HKD", 1)),
    "offshore": (("USD", 8), ("HKD", 1), ("EUR", 1)),
    "factor_market": (("CNY", 1),),
    "corporate_account": (("CNY", 9), ("USD", 1)),
}
COUNTRIES = ("SG", "HK", "US", "DE", "GB", "JP", "KR", "VN", "TH", "MY", "AU", "FR", "NL")
# The feed aims to fill roughly this share of every target per run of `events_per_run` events.
RUN_SHARE = Decimal("0.9")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def demo_events(seed: int, targets: tuple[Target, ...], events_per_run: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields (bank_id, event body) forever; ids are deterministic per seed and index."""
    rng = random.Random(seed)
    events_per_target = Decimal(events_per_run) / len(targets)
    mean_amount = {t.code: Decimal(t.amount) * RUN_SHARE / events_per_target for t in targets}
    usd_cny = Decimal("6.8976")
    index = 0
    recent: list[tuple[str, dict[str, Any]]] = []
    while True:
        index += 1
        target = targets[rng.randrange(len(targets))]
        bank = rng.choices(DEMO_BANKS, weights=[b.weight for b in DEMO_BANKS])[0]
        currency = _pick(rng, CURRENCY_MIX[target.code])
        mean = mean_amount[target.code]
        if target.currency == "CNY" and currency != "CNY":
            mean = mean / usd_cny
        # Log-normal sizes: many mid-sized payments, a few very large ones.
        factor = Decimal(str(round(rng.lognormvariate(0, 0.8), 6))) / Decimal("1.3771")
        exponent = 0 if currency == "JPY" else 2
        amount = max(Decimal(1), (mean * factor)).quantize(Decimal(1).scaleb(-exponent))
        day = target.window_start + timedelta(days=rng.randrange(target.window_days))
        body: dict[str, Any] = {
            "event_id": f"demo-{seed}-{index:08d}",
            "category": target.code,
            "amount": str(amount),
            "currency": currency,
            "value_date": min(day, date.today()).isoformat(),
            "direction": rng.choice(("inbound", "outbound")),
            "counterparty_country": rng.choice(COUNTRIES),
        }
        recent.append((bank.bank_id, body))
        recent = recent[-200:]
        yield bank.bank_id, body
        roll = rng.random()
        if roll < 0.02 and len(recent) > 10:
            # A bank retrying a request it already sent: must be counted once.
            yield recent[rng.randrange(len(recent) - 1)]
        elif roll < 0.03 and len(recent) > 10:
            original_bank, original = recent[rng.randrange(len(recent) - 1)]
            reversal = {**original, "event_id": f"{original['event_id']}-rev", "reverses": original["event_id"]}
            yield original_bank, reversal


def ensure_demo_banks(settings: CoreSettings, keys_file: Path) -> dict[str, str]:
    keys: dict[str, str] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    engine = make_engine(settings.database_url, pool_size=1)
    with Session(engine) as session, session.begin():
        for bank in DEMO_BANKS:
            existing = session.get(Bank, bank.bank_id)
            key = keys.get(bank.bank_id)
            if existing is not None and key is not None and existing.key_hash == hash_key(key):
                continue
            key = generate_key()
            keys[bank.bank_id] = key
            values = {
                "bank_id": bank.bank_id,
                "name": bank.name,
                "bic": bank.bic,
                "key_hash": hash_key(key),
                "active": True,
                "rate_per_second": 5000,
                "burst": 20000,
            }
            statement = insert(Bank).values(**values)
            session.execute(statement.on_conflict_do_update(index_elements=["bank_id"], set_=values))
    engine.dispose()
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.touch(mode=0o600)
    keys_file.write_text(json.dumps(keys, indent=2))
    return keys


def run(ingest_url: str, seed: int, rate: float, batch: int, limit: int | None, events_per_run: int) -> int:
    settings = CoreSettings()  # required fields come from the environment
    targets = load_targets(settings.targets_file)
    stack_dir = Path(os.environ.get("STACK_DIR", ".stack"))
    keys = ensure_demo_banks(settings, stack_dir / "demo-keys.json")
    stream = demo_events(seed, targets, events_per_run)
    sent = 0
    pending: dict[str, list[dict[str, Any]]] = {}
    with httpx.Client(base_url=ingest_url, timeout=30.0) as client:
        while limit is None or sent < limit:
            started = time.monotonic()
            for _ in range(batch):
                bank_id, body = next(stream)
                pending.setdefault(bank_id, []).append(body)
            for bank_id, events in pending.items():
                _post_until_answered(client, keys[bank_id], events)
                sent += len(events)
            pending.clear()
            logger.info("demo batch sent", extra={"sent": sent})
            time.sleep(max(0.0, batch / rate - (time.monotonic() - started)))
    return 0


def _post_until_answered(client: httpx.Client, key: str, events: list[dict[str, Any]]) -> None:
    """Retries on 429/503/network errors, as a bank's system would; the ids make it safe."""
    delay = 0.5
    while True:
        try:
            response = client.post(
                "/v1/events/batch", json={"events": events}, headers={"Authorization": f"Bearer {key}"}
            )
            if response.status_code == 200:
                return
            logger.warning(
                "ingest refused demo batch", extra={"status": response.status_code, "body": response.text[:300]}
            )
            if response.status_code not in (429, 503):
                return
        except httpx.HTTPError as exc:
            logger.warning("ingest unreachable", extra={"error": str(exc)})
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", default="http://127.0.0.1:8001")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--limit", type=int, default=None, help="stop after this many events")
    parser.add_argument(
        "--events-per-run", type=int, default=60_000, help="events after which the targets are about 90%% met"
    )
    args = parser.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    raise SystemExit(run(args.ingest, args.seed, args.rate, args.batch, args.limit, args.events_per_run))


if __name__ == "__main__":
    main()
