"""Ingest configuration: the shared connection settings, the contract's validation limits
and the intake's own bounds, all from the environment (pydantic-settings).

Connection URLs stay required (inherited from CoreSettings): there is no default that could
point intake at someone else's broker. Every bound below is what the contract promises.
"""

from __future__ import annotations

from pydantic import Field
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
