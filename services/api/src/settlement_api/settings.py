"""API settings: the core connection settings plus the read-side limits.

Every cap is documented in docs/api.md; they bound the work one request can cause, so read
latency depends on the requested range, never on the size of the history.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr

from settlement_core.settings import CoreSettings, IntakeRules


class ApiSettings(CoreSettings, IntakeRules):
    # IntakeRules: control totals accept the currencies and amounts intake accepts (the same
    # ACCEPTED_CURRENCIES and MAX_AMOUNT), so a declared line can always match events.

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8002, ge=1, le=65535)

    # Off by default: without a key only /healthz, the market-wide /metrics and the status
    # page's shell (no figures) answer. On: market-wide figures to anyone, under disclosure
    # control (MIN_CONTRIBUTORS).
    public_mode: bool = False
    # The status page at /, /status.json and /status/series.json show what /v1/progress and
    # /v1/progress/{code}/series show the same reader; STATUS_PAGE_ENABLED=false removes them.
    status_page_enabled: bool = True

    # Knowledge-time reads (docs/statistics.md, two time axes, cost). Every API process moves
    # its in-memory known_at base (settlement_api.kit.known_at.KnownBase) to now this often
    # (0 turns base and checkpoints off): a read adds the effects committed since, at most
    # this many seconds of them (146,000 effects at the aggregator's 14,600 events/s).
    known_at_base_seconds: float = Field(default=10.0, ge=0)
    # And tries to write a knowledge checkpoint this often (one writer at a time;
    # `settlementctl checkpoint` writes one on demand), keeping the newest this many (48
    # hourly: two days). Checkpoints start a base (at start, after a rule change) and serve
    # reads counted with another rule set than the base's; each is a full copy of the
    # groups (732,447 at 10^6 synthetic events), hence hourly rather than per base move.
    known_at_checkpoint_seconds: float = Field(default=3600.0, gt=0)
    known_at_checkpoints_kept: int = Field(default=48, ge=1)
    # The round-trip deadline (settlement_core.db.deadline) of the checkpoint writer and the
    # base's moves, on a connection of their own: one checkpoint INSERT ... SELECT of 10^7
    # effects took 221 s at load 20, so the requests' 20 s would cut every one.
    known_at_maintenance_deadline_s: float = Field(default=1800.0, gt=0)

    def _seed_file(self, explicit: Path | None, name: str) -> Path | None:
        """A data file of seeds/: the setting when it is set (it must then load), else the file
        of that name next to the catalogue (TARGETS_FILE) when there is one, as seeds/ ships
        them; a catalogue mounted alone (its own folder) has none beside it."""
        if explicit is not None:
            return explicit
        beside = self.targets_file.with_name(name)
        return beside if beside.is_file() else None

    # Reporting deadlines (settlement_core.deadlines): control totals show their due date.
    # Unset: deadlines.yaml next to the catalogue (TARGETS_FILE) when there is one, as seeds/
    # ships them; a catalogue mounted alone (its own folder) then has no deadlines: due dates
    # are null and a warning is logged at start. A DEADLINES_FILE that is set must load.
    deadlines_file: Path | None = None

    @property
    def deadlines_path(self) -> Path | None:
        return self._seed_file(self.deadlines_file, "deadlines.yaml")

    # The data-quality score's weights (settlement_api.quality.weights). Unset: quality.yaml
    # next to the catalogue when there is one, as seeds/ ships it; none found: the quality
    # reads answer 503 and no quality gauge is exported. A QUALITY_FILE that is set must load.
    quality_file: Path | None = None

    @property
    def quality_path(self) -> Path | None:
        return self._seed_file(self.quality_file, "quality.yaml")

    # The advance release calendar (settlement_api.releases.calendar). Unset: release_calendar.yaml
    # next to the catalogue when there is one (seeds/ ships it); none: the calendar is empty.
    release_calendar_file: Path | None = None

    @property
    def release_calendar_path(self) -> Path | None:
        return self._seed_file(self.release_calendar_file, "release_calendar.yaml")

    # Per-bank gauges are the only unbounded label; cap them (docs/architecture.md).
    top_banks: int = Field(default=20, ge=1, le=100)

    # Maximum number of points of one time series, per granularity.
    max_points_day: int = Field(default=731, ge=1)
    max_points_month: int = Field(default=240, ge=1)
    max_points_year: int = Field(default=50, ge=1)

    on_track_pace: Decimal = Decimal("0.9")
    fx_cache_seconds: float = Field(default=10.0, ge=0)
    # The 30-day rolling gauges need 720 hourly fields per stream. Closed hours only change on
    # a rebuild, so a scrape re-reads the current and previous hour and re-reads everything
    # only this often.
    rolling_full_refresh_seconds: float = Field(default=300.0, ge=0)

    # Reporting completeness (operator pages, settlement_silent_banks): a bank is silent when
    # it sent nothing on the last SILENT_BUSINESS_DAYS business days (working days of
    # China's calendar, business timezone); its DLQ rate over DLQ_RATE_WINDOW_DAYS is high above DLQ_RATE_THRESHOLD.
    silent_business_days: int = Field(default=3, ge=1, le=60)
    dlq_rate_threshold: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    dlq_rate_window_days: int = Field(default=7, ge=1, le=90)
    # The completeness gauges cost one aggregate query of PostgreSQL; scrapes reuse it this long.
    completeness_cache_seconds: float = Field(default=60.0, ge=0)

    # Disclosure control (docs/security/api.md): a figure shown to anyone but an operator that
    # is computed from fewer than MIN_CONTRIBUTORS banks is suppressed (null, marked), as
    # statistical offices publish no cell that reveals one reporter's business. With 3, a
    # contributing bank that subtracts its own figure still learns only a sum of two others.
    min_contributors: int = Field(default=3, ge=1, le=100)
    # Contributor counts are shared by all readers and kept this long (kit/disclosure.py): they
    # cost more to read than the figures (4 s against 2 s for the demo status page on a
    # loaded 2-core machine) and only change when a bank first reports into a cell.
    contributors_cache_seconds: float = Field(default=30.0, ge=0, le=600)

    # GET /metrics/banks (per-bank series) answers only `Authorization: Bearer <token>`;
    # unset, the endpoint is off (404). The public /metrics is market-wide only.
    metrics_scrape_token: SecretStr | None = None

    # Rate limits (token buckets in Redis, shared by every replica): per API key, and per
    # client address for requests without a key. A status page tab costs 0.2 requests/s
    # (one refresh per 5 s) plus 4 on load; an operator page about the same. The bursts
    # cover page loads and a report download; the rates keep one client far below what
    # starved an operator read in the audit (two anonymous clients looping on
    # /status/series.json, 0.35 s each, pushed an operator read to about 1 s).
    rate_per_key: float = Field(default=10.0, gt=0, description="requests/s per API key")
    burst_per_key: int = Field(default=60, ge=1)
    rate_per_address: float = Field(default=2.0, gt=0, description="requests/s per address without a key")
    burst_per_address: int = Field(default=30, ge=1)
    # Anonymous pages and JSON (no Authorization header) are computed at most once per this
    # many seconds per distinct request and served from memory in between, so N anonymous
    # clients cost one computation per TTL. 0 turns the cache off. Figures are at most this
    # stale for anonymous readers; keyed reads are never cached.
    anonymous_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    # /docs and /redoc (Swagger UI / ReDoc served from this process, never a CDN).
    docs_enabled: bool = True

    build_version: str = ""
    build_commit: str = "unknown"
