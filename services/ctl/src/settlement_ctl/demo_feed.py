"""Deterministic demo feed that tells the 2020 story, then keeps a live stream going.

    python -m settlement_ctl.demo_feed --ingest http://127.0.0.1:8001 [--seed 2020]
        [--replay-rate 500] [--rate 20] [--limit N]

Phase 1 (replay, a minute or two of wall time) POSTs a whole 2020 for the demo banks, plus
a thinner 2019 so the monthly bars have the previous year beside them. Amounts are scaled
so each target ends the year at a chosen share of its target (OUTCOMES): cross-border RMB at
the published 2020 actual of 1687亿元 (28 % of 6000亿元), two targets achieved, the others
missed by different margins. The outcomes hold after the catalogue's derivation rules: a CNY
e-commerce or headquarters payment with a foreign counterparty also counts toward cross-border
RMB, so that target's own events make up only what the rules do not add. Days follow a
business-day rhythm with the early-2020 slump and a December peak. Phase 2 sends live events
dated today (outside the 2020 window, so the 2020 outcome stays put) at `--rate`, so the
league table and completeness stay current.

The same seed produces the same events (ids, amounts, dates), so reruns are duplicates, not
new volume. One demo bank is registered but never reports, so the completeness page has a
silent bank to show. Keys of the demo banks are kept in $STACK_DIR/demo-keys.json (0600).
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
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from settlement_core.auth import generate_key, hash_key
from settlement_core.catalogue import Target, load_catalogue
from settlement_core.db.engine import make_engine
from settlement_core.db.models import Bank, Operator
from settlement_core.fx import FxTable, load_fx_csv
from settlement_core.logs import configure_logging
from settlement_core.money import minor_units
from settlement_core.rules import NO_RULES, CountingRules
from settlement_core.settings import CoreSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoBank:
    bank_id: str
    name: str
    bic: str
    weight: int  # 0: registered but never reports (a silent bank for the completeness page)


DEMO_BANKS = (
    DemoBank("demo-cqrcb", "Chongqing Rural Commercial Bank (demo)", "CRCBCNBJ", 5),
    DemoBank("demo-cqcb", "Bank of Chongqing (demo)", "CQCBCN22", 4),
    DemoBank("demo-boc-cq", "Bank of China Chongqing Branch (demo)", "BKCHCNBJ", 6),
    DemoBank("demo-icbc-cq", "ICBC Chongqing Branch (demo)", "ICBKCNBJ", 6),
    DemoBank("demo-hsbc-cq", "HSBC Chongqing Branch (demo)", "HSBCCNSH", 2),
    DemoBank("demo-silent", "Three Gorges Trust (demo, never reports)", "TGTRCN22", 0),
)
REPORTING_BANKS = tuple(b for b in DEMO_BANKS if b.weight > 0)
DEMO_OPERATOR = "demo-operator"
OPERATOR_KEY_ENTRY = "operator:" + DEMO_OPERATOR  # its entry in demo-keys.json

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
HOME = "CN"
# Share of each category's payments with a domestic counterparty: headquarters settlement is
# mostly domestic cash pooling, cross-border RMB, e-commerce and offshore are cross-border.
DOMESTIC_SHARE: dict[str, float] = {"mnc_headquarters": 0.85, "factor_market": 0.9, "corporate_account": 0.8}

# The 2020 outcome per target as a share of the target. Cross-border RMB: the reported 2020
# actual, 1687亿元 of 6000亿元; the others are plausible demo outcomes, two of them achieved.
OUTCOMES: dict[str, Decimal] = {
    "cross_border_rmb": Decimal(168_700_000_000) / Decimal(600_000_000_000),
    "cross_border_ecommerce": Decimal("1.12"),
    "mnc_headquarters": Decimal("0.74"),
    "offshore": Decimal("0.46"),
    "factor_market": Decimal("1.03"),
    "corporate_account": Decimal("0.91"),
}
# 2019 relative to 2020, per target: growth stories differ.
PREVIOUS_YEAR: dict[str, Decimal] = {
    "cross_border_rmb": Decimal("0.93"),
    "cross_border_ecommerce": Decimal("0.71"),
    "mnc_headquarters": Decimal("0.88"),
    "offshore": Decimal("1.08"),
    "factor_market": Decimal("0.84"),
    "corporate_account": Decimal("0.97"),
}
# Month weights of 2020: the February slump, a recovery, a December peak.
MONTH_WEIGHT = (0.8, 0.45, 0.75, 0.9, 0.95, 1.0, 1.0, 1.0, 1.05, 1.0, 1.1, 1.35)
HISTORY_EVENTS_PER_MONTH = 20  # per target in 2019: enough for steady monthly bars


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _day_weight(day: date) -> float:
    return MONTH_WEIGHT[day.month - 1] * (1.0 if day.weekday() < 5 else 0.15)


@dataclass(frozen=True, slots=True)
class Draft:
    bank_id: str
    category: str
    currency: str
    day: date
    weight: float
    country: str
    direction: str


def _counterparty(rng: random.Random, code: str) -> str:
    return HOME if rng.random() < DOMESTIC_SHARE.get(code, 0.0) else rng.choice(COUNTRIES)


def _drafts(rng: random.Random, target: Target, year: int, count: int) -> list[Draft]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    weights = [_day_weight(d) for d in days]
    chosen = rng.choices(days, weights=weights, k=count)
    code = target.code
    drafts = []
    for day in sorted(chosen):
        bank = rng.choices(REPORTING_BANKS, weights=[b.weight for b in REPORTING_BANKS])[0]
        currency = _pick(rng, CURRENCY_MIX[code])
        # Log-normal sizes: many mid-sized payments, a few very large ones.
        size = rng.lognormvariate(0, 0.8)
        country, direction = _counterparty(rng, code), rng.choice(("inbound", "outbound"))
        drafts.append(Draft(bank.bank_id, code, currency, day, size, country, direction))
    return drafts


def _scaled(drafts: list[Draft], goal: Decimal, target: Target, fx: FxTable) -> list[tuple[Draft, Decimal]]:
    """Native amounts whose value in the target currency sums to about `goal` (exactly, up
    to minor-unit rounding, for single-currency targets)."""
    total = Decimal(str(sum(d.weight for d in drafts)))
    out = []
    for draft in drafts:
        share = goal * Decimal(str(draft.weight)) / total
        factor = fx.factor(draft.currency, target.currency, draft.day) or Decimal(1)
        quantum = Decimal(1).scaleb(-minor_units(draft.currency))
        out.append((draft, max(quantum, (share / factor).quantize(quantum, rounding=ROUND_HALF_EVEN))))
    return out


def _body(event_id: str, draft: Draft, amount: Decimal) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "category": draft.category,
        "amount": str(amount),
        "currency": draft.currency,
        "value_date": draft.day.isoformat(),
        "direction": draft.direction,
        "counterparty_country": draft.country,
    }


def _derived(planned: list[tuple[Draft, Decimal]], target: Target, rules: CountingRules, fx: FxTable) -> Decimal:
    """What the rules add to `target` from other categories' planned events, in its currency."""
    added = Decimal(0)
    for draft, amount in planned:
        if draft.category == target.code:
            continue
        if target.code in rules.counts_toward((draft.category,), draft.currency, draft.country, draft.direction):
            added += amount * (fx.factor(draft.currency, target.currency, draft.day) or Decimal(1))
    return added


def replay_events(
    seed: int, targets: tuple[Target, ...], fx: FxTable, events_2020: int, rules: CountingRules = NO_RULES
) -> list[tuple[str, dict[str, Any]]]:
    """2019 history and the whole 2020, in value-date order, with a few resent requests.

    Targets that rules add to are planned last, from what the rules leave to their own events."""
    rng = random.Random(seed)
    per_target = max(1, events_2020 // len(targets))
    derived_to = {r.target for r in rules.rules if r.enabled}
    ordered = sorted(targets, key=lambda t: t.code in derived_to)  # stable: catalogue order otherwise
    planned: dict[tuple[str, int], list[tuple[Draft, Decimal]]] = {}
    for target in ordered:
        code = target.code
        year = target.window_start.year
        goal_2020 = Decimal(target.amount) * OUTCOMES.get(code, Decimal("0.8"))
        goals = {year - 1: goal_2020 * PREVIOUS_YEAR.get(code, Decimal(1)), year: goal_2020}
        for y, goal in goals.items():
            so_far = [item for (_, planned_year), items in planned.items() if planned_year == y for item in items]
            own_goal = goal - _derived(so_far, target, rules, fx)
            if own_goal <= 0:
                raise ValueError(f"{code} {y}: the rules alone add more than the demo outcome")
            count = 12 * HISTORY_EVENTS_PER_MONTH if y < year else per_target
            planned[(code, y)] = _scaled(_drafts(rng, target, y, count), own_goal, target, fx)
    flat = [
        (draft, amount, f"demo-{seed}-{code}-{y}-{i:06d}")
        for (code, y), items in planned.items()
        for i, (draft, amount) in enumerate(items)
    ]
    flat.sort(key=lambda item: (item[0].day, item[2]))
    events: list[tuple[str, dict[str, Any]]] = []
    for draft, amount, event_id in flat:
        events.append((draft.bank_id, _body(event_id, draft, amount)))
        if rng.random() < 0.01 and len(events) > 10:
            # A bank retrying a request it already sent: must be counted once.
            events.append(events[rng.randrange(len(events) - 1)])
    return events


def live_events(seed: int, targets: tuple[Target, ...], fx: FxTable) -> Iterator[tuple[str, dict[str, Any]]]:
    """Events dated today, forever, at about a working day's volume of 2020 per target."""
    rng = random.Random(seed + 1)
    index = 0
    while True:
        index += 1
        target = targets[rng.randrange(len(targets))]
        code = target.code
        bank = rng.choices(REPORTING_BANKS, weights=[b.weight for b in REPORTING_BANKS])[0]
        currency = _pick(rng, CURRENCY_MIX[code])
        today = date.today()
        daily = Decimal(target.amount) * OUTCOMES.get(code, Decimal("0.8")) / 250 / 40
        factor = fx.factor(currency, target.currency, today) or Decimal(1)
        quantum = Decimal(1).scaleb(-minor_units(currency))
        size = Decimal(str(round(rng.lognormvariate(0, 0.8), 6)))
        amount = max(quantum, (daily * size / factor).quantize(quantum, rounding=ROUND_HALF_EVEN))
        draft = Draft(
            bank.bank_id, code, currency, today, 1.0, _counterparty(rng, code), rng.choice(("inbound", "outbound"))
        )
        yield bank.bank_id, _body(f"demo-{seed}-live-{today.isoformat()}-{index:08d}", draft, amount)


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
        # A read-only operator for the demo's operator page; `make run` says where its key is.
        operator = session.get(Operator, DEMO_OPERATOR)
        key = keys.get(OPERATOR_KEY_ENTRY)
        if operator is None or key is None or operator.key_hash != hash_key(key):
            key = generate_key()
            keys[OPERATOR_KEY_ENTRY] = key
            values_op = {"name": DEMO_OPERATOR, "key_hash": hash_key(key), "active": True}
            statement_op = insert(Operator).values(**values_op)
            session.execute(statement_op.on_conflict_do_update(index_elements=["name"], set_=values_op))
    engine.dispose()
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.touch(mode=0o600)
    keys_file.write_text(json.dumps(keys, indent=2))
    return keys


def run(
    ingest_url: str, seed: int, replay_rate: float, rate: float, batch: int, limit: int | None, events_2020: int
) -> int:
    settings = CoreSettings()  # required fields come from the environment
    catalogue = load_catalogue(settings.targets_file)
    targets = catalogue.targets_for(catalogue.latest_period)
    fx = FxTable(load_fx_csv(settings.fx_rates_file)) if settings.fx_rates_file else FxTable([])
    stack_dir = Path(os.environ.get("STACK_DIR", ".stack"))
    keys = ensure_demo_banks(settings, stack_dir / "demo-keys.json")
    replay = replay_events(seed, targets, fx, events_2020, catalogue.rules)
    sent = 0
    with httpx.Client(base_url=ingest_url, timeout=30.0) as client:
        for offset in range(0, len(replay), batch):
            if limit is not None and sent >= limit:
                return 0
            sent += _send(client, keys, replay[offset : offset + batch], replay_rate)
        logger.info("demo replay of the 2020 story sent", extra={"sent": sent})
        live = live_events(seed, targets, fx)
        while limit is None or sent < limit:
            sent += _send(client, keys, [next(live) for _ in range(batch)], rate)
    return 0


def _send(client: httpx.Client, keys: dict[str, str], events: list[tuple[str, dict[str, Any]]], rate: float) -> int:
    """POSTs one batch per bank, then sleeps so the stream keeps to `rate` events/s."""
    started = time.monotonic()
    pending: dict[str, list[dict[str, Any]]] = {}
    for bank_id, body in events:
        pending.setdefault(bank_id, []).append(body)
    for bank_id, bodies in pending.items():
        _post_until_answered(client, keys[bank_id], bodies)
    logger.info("demo batch sent", extra={"events": len(events)})
    time.sleep(max(0.0, len(events) / rate - (time.monotonic() - started)))
    return len(events)


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
    parser.add_argument("--replay-rate", type=float, default=500.0, help="events per second while replaying 2020")
    parser.add_argument("--rate", type=float, default=20.0, help="live events per second after the replay")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None, help="stop after this many events")
    parser.add_argument("--events-2020", type=int, default=12_000, help="events of the 2020 replay")
    args = parser.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    raise SystemExit(run(args.ingest, args.seed, args.replay_rate, args.rate, args.batch, args.limit, args.events_2020))


if __name__ == "__main__":
    main()
