"""Ingest configuration: the shared connection settings, the contract's validation limits
and the intake's own bounds, all from the environment (pydantic-settings).

Connection URLs stay required (inherited from CoreSettings): there is no default that could
point intake at someone else's broker. Every bound below is what the contract promises.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from settlement_core.settings import CoreSettings, IntakeRules


class IngestSettings(CoreSettings, IntakeRules):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8001, ge=1, le=65535)
    # Processes serving the port (uvicorn workers). Intake is CPU-bound in Python, so a
    # second process is what lets it use a second core; all shared state (claims, rate
    # limits, principals) is in Redis, and metrics are merged across workers.
    ingest_workers: int = Field(default=1, ge=1, le=64)

    # A produce that is not acknowledged within this bound answers 503; it stays below the
    # contract's 5 s so the whole response (Redis, HTTP) also fits.
    produce_timeout_s: float = Field(default=4.0, gt=0, le=30)
    unavailable_retry_after_s: int = Field(default=2, ge=1)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_xml_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=1000, ge=1)

    # A claim lives this long if its holder dies between claiming and producing.
    idempotency_pending_ttl_s: int = Field(default=30, ge=5)
    # How long a (bank, event_id) is remembered at intake; the ledger's unique key still
    # catches later repeats downstream.
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    # How long a request waits for a concurrent identical request to settle.
    # Slightly longer than a produce, so a waiter sees its twin's outcome (done or released).
    pending_wait_s: float = Field(default=4.5, ge=0.1)

    auth_cache_ttl_s: int = Field(default=30, ge=1, le=300)
    signature_window_s: int = Field(default=300, ge=1)
    # HMAC v1 signs only the timestamp and body, so a captured request can be replayed to
    # another path or query string (audit M2); accept it only while banks migrate to v2.
    hmac_v1_allowed: bool = False

    # Per-bank byte bucket, charged before a body is read or parsed (ratelimit.py). Bytes
    # are what parsing costs: the ISO 20022 reader parses ~5 MB/s per core (measured here:
    # a 3.9 MB pacs.008 of 12,000 transactions, 0.67 s of CPU; the audit saw 2 s for 4 MB of
    # 40,000), JSON intake ran at 28,122 events/s x ~290 B = ~8 MB/s on the 2 cores
    # (bench/README.md). 1 MiB/s per bank is ~20 % of one core of ISO parsing: a bank
    # streaming maximal messages without pause slows nobody else much, and it is twice what
    # a bank at the default event rate needs (500 events/s x ~330 B per lean pacs.008
    # transaction, or ~1 KB with names and addresses). The burst holds two 4 MiB messages.
    bank_bytes_per_second: int = Field(default=1024 * 1024, ge=1024)
    bank_bytes_burst: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Requests of one bank being read or worked on at once, across all workers; more answer
    # 429. Memory is bounded by the byte bucket already (a body is charged before it is
    # read, so one bank never has more than burst + rate x body timeout = ~38 MiB of bodies
    # in flight); this cap bounds the connections and tasks one bank can hold (each slow
    # one for at most the 10 s + 30 s read deadlines). The benchmark needed 64 connections
    # for the machine's 2,023 single POSTs/s (bench/README.md); 128 is twice that, so a
    # bank's client that opens a connection per request (120 at once in
    # tests/ingest/test_workers.py) is not refused for it.
    bank_max_in_flight: int = Field(default=128, ge=1)
    # A lease outlives any request (header 10 s + body 30 s + produce 4 s + claim wait 4.5 s
    # by default); one whose worker died frees its slot after this long.
    in_flight_lease_s: float = Field(default=60.0, ge=1)
    # Events refused for their content are counted in process and added to PostgreSQL this
    # often (rejections.py): one statement per worker and interval, whatever the 422 rate;
    # a SIGKILLed worker loses at most this interval's counts.
    rejections_flush_seconds: float = Field(default=2.0, gt=0, le=300)

    # The reason codes of corrections (settlement_core.corrections). Unset: correction_reasons.yaml
    # next to the catalogue (TARGETS_FILE) when there is one, as seeds/ ships it; none found:
    # every reason_code is refused, hence every correction. A file that is set must load.
    correction_reasons_file: Path | None = None

    @property
    def correction_reasons_path(self) -> Path | None:
        if self.correction_reasons_file is not None:
            return self.correction_reasons_file
        beside = self.targets_file.with_name("correction_reasons.yaml")
        return beside if beside.is_file() else None

    @model_validator(mode="after")
    def _burst_holds_a_whole_body(self) -> IngestSettings:
        largest = max(self.max_body_bytes, self.max_xml_bytes)
        if self.bank_bytes_burst < largest:
            raise ValueError(
                f"bank_bytes_burst ({self.bank_bytes_burst}) must hold the largest body ({largest} bytes),"
                " or such a body could never be accepted"
            )
        return self
