"""`make soak`: the pipeline end to end at a fixed rate for a long time, sampled every 10 s.

    python -m bench.soak                      1,000 ev/s for $SOAK_MINUTES (default 30) minutes
    python -m bench.soak --minutes 3 --rate 500

ingest, aggregate and api run in their own benchmark namespace (bench/harness/namespace.py)
as in the end-to-end stage; the open-loop load generator (bench/load/generator.py, batches
of 50 plus 10 probe events/s timed until visible in GET /v1/progress) offers the rate for the
whole run. Every interval the soak samples each service's RSS (the process tree: ingest's
supervisor and workers together), our Redis database's memory (MEMORY USAGE of every key),
our PostgreSQL database's size, the events the aggregator has committed and the consumer lag
(topic end offsets minus committed offsets). The verdicts (bench/soak/stats.py): RSS and
lag flat, PostgreSQL and Redis growing at most linearly in events.

Writes bench/results/soak-<UTC>.json, one PNG per series next to it (soak-<UTC>-<series>.png)
and soak-<UTC>.md; exit status 1 when a verdict fails or the run broke.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from bench.config import RESULTS_DIR, log
from bench.reporting.results import json_safe
from bench.soak.report import markdown
from bench.soak.run import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "30")))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", "1000")))
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    report = run(args.minutes, args.rate, args.interval, args.out)
    stamp = datetime.fromisoformat(report.started_at).strftime("%Y%m%dT%H%M%SZ")
    data = {**asdict(report), "passed": report.passed}
    (args.out / f"soak-{stamp}.json").write_text(json.dumps(json_safe(data), indent=2, ensure_ascii=False) + "\n")
    summary = markdown(report)
    (args.out / f"soak-{stamp}.md").write_text(summary + "\n")
    print(summary)
    log(f"wrote {args.out / f'soak-{stamp}.json'}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
