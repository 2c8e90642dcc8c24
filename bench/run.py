"""`make bench`: run the benchmark stages of issue 6, write bench/results/<UTC>.json and
print a markdown summary.

    python -m bench.run                     full run (~32-45 min on the 2-core machine)
    python -m bench.run --quick             smoke run with small sizes (a few minutes)
    python -m bench.run --only intake,e2e   some stages (intake bridge aggregator quix e2e receipts reads
                                            growth profile; "peers" = bridge,quix)
    python -m bench.run --only receipts     end to end with the transparency log off and on (issue 29)
    BENCH_SCALE=0.1 python -m bench.run     event counts x 0.1 (also --scale)

Each stage runs in its own namespace (PostgreSQL database, Redis db, Kafka topics, consumer
group) with its own service processes on free ports, so it disturbs nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import ALIASES, FULL, QUICK, RESULTS_DIR, STAGES, BenchConfig, log
from bench.harness.namespace import stack_env
from bench.load.prefill import PrefilledTopic
from bench.peers.camel_bridge.runtime import BridgeSession, run_bridge
from bench.peers.quix.runtime import run_quix
from bench.reporting.markdown import markdown
from bench.reporting.results import BenchReport, to_json
from bench.reporting.verdicts import peer_ratios, slowest, verdicts
from bench.stages.aggregator import run_aggregator
from bench.stages.e2e import run_e2e
from bench.stages.intake import run_intake
from bench.stages.profile import profile_service
from bench.stages.reads import run_reads_and_growth
from bench.stages.receipts import run_receipts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help=f"stages to run, comma-separated or repeated: {', '.join(STAGES)}, or peers (= bridge,quix)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1")),
        help="multiply event counts (default $BENCH_SCALE or 1)",
    )
    parser.add_argument("--reps", type=int, help="repetitions per figure (default 3, minimum 3 for a reportable run)")
    parser.add_argument("--events", type=int, help="events pre-filled for the aggregator")
    parser.add_argument("--history", help="history levels for reads/growth, e.g. 1e4,1e6,1e7")
    parser.add_argument("--rebuild-at", type=float, help="history level for the rebuild timing")
    parser.add_argument("--intake-seconds", type=float, help="seconds per intake repetition")
    parser.add_argument("--e2e-seconds", type=float, help="seconds per end-to-end repetition")
    parser.add_argument("--e2e-rates", help="offered rates, e.g. 1000,6000")
    parser.add_argument("--receipts-rates", help="offered rates of the receipts stage (log off and on), e.g. 1000,6000")
    parser.add_argument("--read-requests", type=int, help="requests per read repetition")
    parser.add_argument("--profile-seconds", type=float, help="seconds of py-spy sampling")
    parser.add_argument(
        "--profile-service",
        choices=["ingest", "aggregate", "api"],
        help="profile this service instead of the slowest stage's",
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=int(os.environ.get("INGEST_WORKERS", "2")),
        help="ingest worker processes (default $INGEST_WORKERS or 2, as deploy/local/stack.sh runs it)",
    )
    parser.add_argument(
        "--aggregators", type=int, help="aggregator processes for the scale-out measurement (default 2; 1 skips it)"
    )
    parser.add_argument("--keep", action="store_true", help="keep namespaces for inspection")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results directory")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> BenchConfig:
    cfg = (QUICK if args.quick else FULL).scaled(args.scale)
    changes: dict[str, Any] = {}
    if args.reps:
        changes["reps"] = args.reps
        changes["rebuild_reps"] = args.reps
    if args.events:
        changes["aggregator_events"] = args.events
    if args.history:
        changes["history_levels"] = tuple(int(float(x)) for x in args.history.split(","))
        changes["rebuild_level"] = changes["history_levels"][min(1, len(changes["history_levels"]) - 1)]
    if args.rebuild_at:
        changes["rebuild_level"] = int(args.rebuild_at)
    if args.intake_seconds:
        changes["intake_seconds"] = args.intake_seconds
    if args.e2e_seconds:
        changes["e2e_seconds"] = args.e2e_seconds
    if args.e2e_rates:
        changes["e2e_rates"] = tuple(float(x) for x in args.e2e_rates.split(","))
    if args.receipts_rates:
        changes["receipts_rates"] = tuple(float(x) for x in args.receipts_rates.split(","))
    if args.read_requests:
        changes["read_requests"] = args.read_requests
    if args.profile_seconds:
        changes["profile_seconds"] = args.profile_seconds
    if args.aggregators:
        changes["aggregator_scale_out"] = args.aggregators if args.aggregators > 1 else 0
    return dataclasses.replace(cfg, **changes) if changes else cfg


def host_info() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=RESULTS_DIR.parent
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "services"],
            capture_output=True,
            text=True,
            check=False,
            cwd=RESULTS_DIR.parent,
        ).stdout.strip()
    except OSError:
        commit, dirty = "unknown", ""
    return {
        "cpus": os.cpu_count(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "commit": commit + ("+uncommitted services" if dirty else ""),
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    named = [s.strip() for group in args.only for s in group.split(",") if s.strip()]
    stages = [s for name in named for s in ALIASES.get(name, (name,))] or list(STAGES)
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise SystemExit(f"unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    cfg = build_config(args)
    if cfg.reps < 3:
        log(f"warning: {cfg.reps} repetitions; issue 6 asks for at least 3")
    base = {**stack_env(), "INGEST_WORKERS": str(args.ingest_workers)}
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    log(f"bench {cfg.mode}: stages {', '.join(stages)}")
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    source: PrefilledTopic | None = None

    def attempt(stage: str, fn: Any) -> None:
        log(f"stage {stage}")
        t0 = time.monotonic()
        try:
            fn()
        except Exception as exc:  # one broken stage must not lose the others' figures
            errors[stage] = f"{type(exc).__name__}: {str(exc)[:800]}"
            log(f"stage {stage} FAILED: {errors[stage]}")
            traceback.print_exc(file=sys.stderr)
        log(f"stage {stage} took {time.monotonic() - t0:.0f} s")

    def need_source() -> PrefilledTopic:
        nonlocal source
        if source is None:
            source = PrefilledTopic(base, cfg.aggregator_events, log)
        return source

    try:
        if "intake" in stages and "bridge" in stages:
            # Side by side: the bridge measures each case right after ours (BridgeSession).
            def intake_and_bridge() -> None:
                try:
                    session: BridgeSession | None = BridgeSession(cfg, base, log)
                except Exception as exc:  # no peer: still measure ours
                    errors["bridge"] = f"{type(exc).__name__}: {str(exc)[:800]}"
                    log(f"stage bridge FAILED: {errors['bridge']}")
                    session = None
                try:
                    hook = session.measure if session else None
                    results["intake"] = run_intake(cfg, base, log, args.keep, after_case=hook)
                    if session is not None:
                        try:
                            results["bridge"] = session.result()
                        except RuntimeError as exc:
                            errors["bridge"] = str(exc)
                finally:
                    if session is not None:
                        session.close()

            attempt("intake+bridge", intake_and_bridge)
        elif "intake" in stages:
            attempt("intake", lambda: results.__setitem__("intake", run_intake(cfg, base, log, args.keep)))
        elif "bridge" in stages:
            attempt("bridge", lambda: results.__setitem__("bridge", run_bridge(cfg, base, log)))
        if "aggregator" in stages:

            def aggregator() -> None:
                results["aggregator"], results["aggregator_scaled"] = run_aggregator(
                    cfg, base, need_source(), log, args.keep
                )

            attempt("aggregator", aggregator)
        if "quix" in stages:
            attempt("quix", lambda: results.__setitem__("quix", run_quix(cfg, need_source(), log)))
        if "e2e" in stages:
            attempt("e2e", lambda: results.__setitem__("e2e", run_e2e(cfg, base, log, args.keep)))
        if "receipts" in stages:
            attempt("receipts", lambda: results.__setitem__("receipts", run_receipts(cfg, base, log, args.keep)))
        if "reads" in stages or "growth" in stages:

            def reads_and_growth() -> None:
                reads, growth = run_reads_and_growth(cfg, base, log, "reads" in stages, "growth" in stages, args.keep)
                results["reads"] = reads
                results["growth"] = growth

            attempt("reads+growth", reads_and_growth)
        if "profile" in stages:

            def profile() -> None:
                partial = BenchReport("", "", "", {}, {}, **results)
                target = (
                    (args.profile_service and ("requested", args.profile_service))
                    or slowest(verdicts(partial))
                    or ("aggregator: events/s", "aggregate")
                )
                stage, service = target
                src = need_source() if service == "aggregate" else None
                results["profile"] = profile_service(cfg, base, stage, service, src, log)

            attempt("profile", profile)
    finally:
        if source is not None:
            source.delete()

    report = BenchReport(
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        mode=cfg.mode,
        host=host_info(),
        config={**dataclasses.asdict(cfg), "ingest_workers": args.ingest_workers},
        errors=errors,
        **results,
    )
    report = dataclasses.replace(report, verdicts=verdicts(report), peer_ratios=peer_ratios(report))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{stamp}.json"
    path.write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n")
    summary = markdown(report)
    (args.out / f"{stamp}.md").write_text(summary + "\n")
    print(summary)
    log(f"wrote {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
