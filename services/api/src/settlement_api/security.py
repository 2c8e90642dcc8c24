"""Who may read what. Keys are verified by settlement_core.auth (shared with ingest).

- operator keys read everything;
- bank keys read their own bank's totals and events, plus the market-wide targets and
  progress (the figures public mode would show anyone);
- without a key: 401, except /v1/targets, /v1/progress and /v1/progress/{code}/series when
  PUBLIC_MODE is on.
A bank asking for another bank gets 404, not 403, so bank ids cannot be probed.

Operator reads of per-bank data (`is_per_bank_read`) are written to the audit log before
they are served (settlement_api.audit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from settlement_core.auth import Principal
from settlement_core.identifiers import BANK_ID_PATTERN
from settlement_core.problems import FieldError, Problem


@dataclass(frozen=True, slots=True)
class Reader:
    """The authenticated caller, or the anonymous public reader (principal None)."""

    principal: Principal | None

    @property
    def is_operator(self) -> bool:
        return self.principal is not None and self.principal.kind == "operator"

    @property
    def bank_id(self) -> str | None:
        if self.principal is not None and self.principal.kind == "bank":
            return self.principal.id
        return None


REALM = "settlement-api"

# Paths whose answers name banks: the per-bank totals, events, the operator views (league
# table, completeness) and the xlsx report. Any read with a bank_id parameter is one too.
PER_BANK_PREFIXES = ("/v1/banks/", "/v1/events/", "/v1/operator/", "/v1/report")


def is_per_bank_read(path: str, query_names: Iterable[str]) -> bool:
    return path.startswith(PER_BANK_PREFIXES) or "bank_id" in query_names


def unauthorized(detail: str = "An API key is required: 'Authorization: Bearer <key>'.") -> Problem:
    return Problem(401, "Unauthorized", detail, "unauthorized", headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})


def bank_not_found(bank_id: str) -> Problem:
    return Problem(404, "Not found", f"No bank {bank_id!r} is visible to this key.", "not-found")


def scoped_bank(reader: Reader, requested: str | None) -> str | None:
    """The bank a query is restricted to; a bank key is always pinned to its own."""
    if requested is not None and not BANK_ID_PATTERN.fullmatch(requested):
        raise Problem(
            422,
            "Invalid query parameters",
            "bank_id is not a bank id.",
            "invalid-query",
            [FieldError("#/query/bank_id", "not a bank id (1-32 of A-Z a-z 0-9 . _ -)")],
        )
    own = reader.bank_id
    if reader.is_operator:
        return requested
    if own is None:
        raise unauthorized()
    if requested is not None and requested != own:
        raise bank_not_found(requested)
    return own


def required_bank(reader: Reader, requested: str | None) -> str:
    """scoped_bank for reads of one bank's records: an operator must name the bank."""
    bank = scoped_bank(reader, requested)
    if bank is None:
        raise Problem(
            422,
            "Invalid query parameters",
            "Operators must pass ?bank_id=.",
            "invalid-query",
            [FieldError("#/query/bank_id", "required for operator keys")],
        )
    return bank
