"""`settlement-submit` against the real pipeline: a 10,000-row file with one planted bad row,
and a Kafka outage in the middle of a file (the real broker stopped and started again)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import Pipeline
from tests.support.intake import Bank, read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"
SUBMIT = Path(sys.executable).with_name("settlement-submit")
HEADER = "event_id,category,amount,currency,value_date,direction,counterparty_country\n"
CATEGORIES = (("cross_border_rmb", "CNY"), ("offshore", "USD"), ("factor_market", "CNY"))


def write_csv(path: Path, prefix: str, rows: int, bad: dict[int, str] | None = None) -> dict[tuple[str, str], Decimal]:
    """Writes `rows` events (row i on line i + 2) and returns the sums per (category, currency)
    of the good rows. `bad` maps a row to the amount text that makes it invalid."""
    sums: dict[tuple[str, str], Decimal] = {}
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            category, currency = CATEGORIES[i % len(CATEGORIES)]
            amount = f"{(i * 7919) % 1_000_000 + 1}.{i % 100:02d}"
            day = f"2020-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
            if bad and i in bad:
                amount = bad[i]
            else:
                sums[(category, currency)] = sums.get((category, currency), Decimal(0)) + Decimal(amount)
            out.write(f"{prefix}-{i:05d},{category},{amount},{currency},{day},inbound,SG\n")
    return sums


def submit(pipeline: Pipeline, bank: Bank | None, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SETTLEMENT_INGEST_URL": pipeline.ingest.url}
    env.pop("SETTLEMENT_API_KEY", None)
    if bank is not None:
        env["SETTLEMENT_API_KEY"] = bank.key
    return subprocess.Popen([str(SUBMIT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(pipeline: Pipeline, bank: Bank | None, *args: str) -> tuple[int, str, str]:
    proc = submit(pipeline, bank, *args)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def totals(pipeline: Pipeline, bank: Bank, category: str) -> dict[str, str]:
    response = httpx.get(
        f"{pipeline.api_url}/v1/totals",
        params={"category": category, "granularity": "year"},
        headers=bank.auth,
        timeout=30,
    )
    response.raise_for_status()
    by_currency: dict[str, str] = response.json()["total"]["by_currency"]
    return by_currency


def wait_for_totals(pipeline: Pipeline, bank: Bank, sums: dict[tuple[str, str], Decimal]) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + 180
    seen: dict[str, dict[str, str]] = {}
    while time.monotonic() < deadline:
        seen = {category: totals(pipeline, bank, category) for category, _ in sums}
        if all(Decimal(seen[c].get(cur, "0")) == amount for (c, cur), amount in sums.items()):
            break
        time.sleep(1.0)
    return seen


def topic_ids(pipeline: Pipeline, prefix: str) -> Counter[str]:
    found: Counter[str] = Counter()
    pattern = re.compile(rb'"event_id":"(' + re.escape(prefix.encode()) + rb'-[0-9]+)"')
    for _, value in read_topic(pipeline.env, timeout_s=120):
        match = pattern.search(value)
        if match:
            found[match.group(1).decode()] += 1
    return found


def test_10k_rows_with_one_planted_bad_row(pipeline: Pipeline, tmp_path: Path) -> None:
    bank = pipeline.bank("CLI-10K")
    path = tmp_path / "events.csv"
    bad_row = 4321  # on line 4323: the header is line 1
    sums = write_csv(path, "tenk", 10_000, bad={bad_row: "12.345"})
    currency = CATEGORIES[bad_row % len(CATEGORIES)][1]
    expected_line = f"  line 4323 (event_id tenk-0{bad_row}): #/amount: {currency} allows at most 2 decimal places"

    code, out, _ = run(pipeline, None, str(path), "--dry-run")
    assert code == 1, out
    assert out.splitlines() == ["valid: 9999", "rejected: 1", expected_line]

    code, out, err = run(pipeline, bank, str(path), "--progress")
    assert code == 1, out + err
    assert out.splitlines() == ["accepted: 9999", "duplicates: 0", "rejected: 1", expected_line]
    assert "10000/10000 rows" in err

    seen = wait_for_totals(pipeline, bank, sums)
    assert {(c, cur): Decimal(seen[c].get(cur, "0")) for (c, cur) in sums} == sums

    # The same file again: nothing is counted twice, the bad row is still the only reject.
    code, out, _ = run(pipeline, bank, str(path), "--no-progress")
    assert code == 1
    assert out.splitlines() == ["accepted: 0", "duplicates: 9999", "rejected: 1", expected_line]
    ids = topic_ids(pipeline, "tenk")
    assert len(ids) == 9999
    assert set(ids.values()) == {1}
    assert f"tenk-0{bad_row}" not in ids
    assert {(c, cur): Decimal(totals(pipeline, bank, c).get(cur, "0")) for (c, cur) in sums} == sums


def unavailable_rejections(pipeline: Pipeline) -> float:
    text = httpx.get(f"{pipeline.ingest.url}/metrics", timeout=10).text
    pattern = r'^ingest_events_total\{(?=[^}]*outcome="rejected")(?=[^}]*reason="unavailable")[^}]*\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


def stack(action: str) -> None:
    subprocess.run([str(STACK), action, "kafka"], check=True, timeout=300, capture_output=True)


def test_kafka_outage_mid_file_loses_nothing_and_sends_nothing_twice(pipeline: Pipeline, tmp_path: Path) -> None:
    bank = pipeline.bank("CLI-OUTAGE")
    rows = 30_000
    path = tmp_path / "outage.csv"
    write_csv(path, "outage", rows)
    before = unavailable_rejections(pipeline)
    proc = submit(pipeline, bank, str(path), "--progress")
    assert proc.stderr is not None
    progress = {"done": 0}
    chunks: list[str] = []

    def watch() -> None:
        assert proc.stderr is not None
        while piece := proc.stderr.read(64):
            chunks.append(piece)
            found = re.findall(r"\] (\d+)/\d+ rows", "".join(chunks[-4:]))
            if found:
                progress["done"] = int(found[-1])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 300
        while progress["done"] < 2000 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stack("stop")
        assert proc.poll() is None, "the file was sent before the outage began; make it longer"
        stopped_at = progress["done"]
        time.sleep(8)
        assert proc.poll() is None, "the CLI gave up during the outage"
    finally:
        stack("start")
    # Not communicate(): it would also read and close stderr under the watcher's feet.
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.wait(timeout=600)
    watcher.join(timeout=10)
    assert proc.returncode == 0, out + "".join(chunks)[-3000:]
    assert stopped_at < rows
    summary = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line and not line.startswith(" "))
    assert int(summary["rejected"]) == 0
    assert int(summary["accepted"]) + int(summary["duplicates"]) == rows
    # The outage was real: intake refused events while Kafka was away, and the CLI resent them.
    assert unavailable_rejections(pipeline) > before
    ids = topic_ids(pipeline, "outage")
    assert len(ids) == rows, f"{rows - len(ids)} acknowledged rows are missing from the topic"
    assert set(ids.values()) == {1}, f"sent twice: {[i for i, n in ids.items() if n > 1][:10]}"
