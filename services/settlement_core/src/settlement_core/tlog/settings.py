"""The log's settings, from the environment (or a mounted Secret's values).

TLOG_ORIGIN             the log's name, the first line of every checkpoint and the key name
TLOG_SIGNING_KEY        the active key, `PRIVATE+KEY+<origin>+<id>+<base64>` (a secret)
TLOG_RETIRED_KEYS       earlier keys' public lines, space-separated (still published)
TLOG_SALT_KEY           64+ hex digits (32+ bytes), the HMAC key leaf salts derive from (a secret)
TLOG_MAX_MERGE_DELAY_S  what a receipt promises: in the log within this many seconds
TLOG_BATCH_SIZE, TLOG_INTERVAL_S, TLOG_LAG_S   integrator pacing (settlement_core.tlog.integrate)
TLOG_VERIFIER_KEYS      the log's public keys, space-separated (GET /v1/log/keys), for the audit
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from settlement_client.tlog.note import VerifierKey
from settlement_core.tlog.keys import LogKeys


def parse_salt_key(secret: SecretStr) -> bytes:
    key = bytes.fromhex(secret.get_secret_value())
    if len(key) < 32:
        raise ValueError("TLOG_SALT_KEY must be at least 64 hex digits (32 bytes)")
    return key


class ReceiptSettings(BaseSettings):
    """What signs promises: ingest needs these (and no database); the integrator all of them."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    tlog_origin: str = "settlement-tracker.example/log"
    tlog_signing_key: SecretStr
    tlog_retired_keys: str = ""
    tlog_salt_key: SecretStr
    tlog_max_merge_delay_s: int = Field(default=3600, ge=1)

    def keys(self) -> LogKeys:
        return LogKeys.load(self.tlog_origin, self.tlog_signing_key.get_secret_value(), self.tlog_retired_keys.split())

    def salt_key(self) -> bytes:
        return parse_salt_key(self.tlog_salt_key)


class TlogSettings(ReceiptSettings):
    """The integrator's: the receipt settings, the ledger and the pacing."""

    database_url: str
    tlog_batch_size: int = Field(default=5000, ge=1)
    tlog_interval_s: float = Field(default=1.0, gt=0)
    tlog_lag_s: float = Field(default=30.0, ge=0)
    # Test-only: hold each step's transaction open this long after writing, before commit,
    # so a crash test can kill the integrator in the middle of a batch for certain.
    tlog_fault_pause_s: float = Field(default=0.0, ge=0)


class LogAuditSettings(BaseSettings):
    """`settlementctl log verify`'s: the ledger, the salt key (leaves are rebuilt with their
    derived salts) and the log's public keys. Never the signing key: the audit only checks
    signatures, and takes the keys it trusts from outside the database it audits."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str
    tlog_origin: str | None = None  # default: the name of the verifier keys
    tlog_salt_key: SecretStr
    tlog_verifier_keys: str = ""
    tlog_retired_keys: str = ""

    def salt_key(self) -> bytes:
        return parse_salt_key(self.tlog_salt_key)

    def verifier_keys(self) -> list[VerifierKey]:
        return [VerifierKey.parse(k) for k in (self.tlog_verifier_keys.split() + self.tlog_retired_keys.split())]
