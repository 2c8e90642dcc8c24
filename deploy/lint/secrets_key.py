"""Who holds SECRETS_ENCRYPTION_KEY (settlement_core/secret_box.py), the key that seals banks'
HMAC secrets in PostgreSQL (docs/security/deploy.md).

- ingest must have it: it opens the secrets to verify HMAC requests (without it every HMAC
  bank's request answers 503);
- settlementctl must have it: `init` runs migration 0005, which seals plaintext secrets, and
  `bank add --hmac`, `bank hmac rotate` and `secrets reencrypt` seal them;
- the api and the aggregator must not: they never read a bank's secret, so a leak of their
  environment must not be able to forge a bank's signature.

secret_box reads the key from the environment directly (no settings class), so settings_env
cannot see it; this check is where it is required.
"""

from __future__ import annotations

from collections.abc import Mapping

from deploy.lint.findings import Finding

KEY = "SECRETS_ENCRYPTION_KEY"
PREVIOUS = "SECRETS_ENCRYPTION_KEY_PREVIOUS"
# Entry-point packages (settings_env.entrypoint_package) that seal or open the secrets;
# settlement_core stands for settlementctl.
HOLDERS = frozenset({"settlement_ingest", "settlement_core"})
NON_HOLDERS = frozenset({"settlement_aggregate", "settlement_api", "settlement_aggregate.integrator"})


def client_findings(where: str, package: str, env: Mapping[str, str | None]) -> list[Finding]:
    """`env`: name -> literal value, or None where it comes from a secret reference."""
    if package in HOLDERS and KEY not in env:
        return [Finding(where, f"{package} needs {KEY} (seals/opens banks' HMAC secrets) and has none")]
    if package in NON_HOLDERS:
        leaked = sorted({KEY, PREVIOUS} & set(env))
        if leaked:
            return [Finding(where, f"{package} never reads a bank's secret, yet has {', '.join(leaked)}")]
    return []


def reference_findings(where: str, env: Mapping[str, str | None]) -> list[Finding]:
    """In the chart: the key only by secretKeyRef, never a literal (ConfigMap or value)."""
    return [
        Finding(where, f"{name} is a literal: take it from a Secret")
        for name in (KEY, PREVIOUS)
        if name in env and env[name] is not None
    ]
