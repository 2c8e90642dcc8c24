"""API settings: the core connection settings plus the read-side limits.

Every cap is documented in docs/api.md; they bound the work one request can cause, so read
latency depends on the requested range, never on the size of the history.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from settlement_core.settings import CoreSettings


class ApiSettings(CoreSettings):
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8002, ge=1, le=65535)

    # Off by default: without a key only /healthz, /metrics and the status page answer.
    public_mode: bool = False
    # The status page at / and its /status.json expose exactly what public-mode /v1/progress
    # would; set STATUS_PAGE_ENABLED=false to remove both.
    status_page_enabled: bool = True

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
    # it sent nothing on the last SILENT_BUSINESS_DAYS business days (Mon-Fri, business
    # timezone); its DLQ rate over DLQ_RATE_WINDOW_DAYS is high above DLQ_RATE_THRESHOLD.
    silent_business_days: int = Field(default=3, ge=1, le=60)
    dlq_rate_threshold: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    dlq_rate_window_days: int = Field(default=7, ge=1, le=90)
    # The completeness gauges cost one aggregate query of PostgreSQL; scrapes reuse it this long.
    completeness_cache_seconds: float = Field(default=60.0, ge=0)

    build_version: str = ""
    build_commit: str = "unknown"
