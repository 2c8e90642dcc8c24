"""The rule sets in force over time (table `rule_sets`, migration 0010; docs/statistics.md).

A knowledge-time read counts the ledger's effects with the rules the projection counted
with at that time (settlement_api.kit.known_at). The projection changes rules when
`settlementctl rebuild` recounts the whole history under the catalogue's current rules, so
that is when a changed set is recorded; `settlementctl init` records the first one. The
time is the server's, as the ledger's processed_at is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, text

from settlement_core.rules import CountingRules, rules_digest, rules_document

_LATEST = text("SELECT id, digest FROM rule_sets ORDER BY recorded_at DESC, id DESC LIMIT 1")
_INSERT = text("""
    INSERT INTO rule_sets (recorded_at, digest, document, source)
    VALUES (clock_timestamp(), :digest, CAST(:document AS jsonb), :source) RETURNING id
""")


@dataclass(frozen=True, slots=True)
class Recorded:
    rule_set_id: int
    digest: str
    new: bool  # False: the latest recorded set already had these rules


def record_rule_set(engine: Engine, rules: CountingRules, source: str, *, first_only: bool = False) -> Recorded:
    """Record `rules` unless the latest set counts the same (same digest). `first_only`:
    record only when no set exists yet (init: a catalogue edited without a rebuild is not
    what the projection counts with)."""
    document = rules_document(rules)
    digest = rules_digest(document)
    with engine.begin() as conn:
        # One writer at a time: two rebuilds racing must not both decide "changed".
        conn.execute(text("LOCK TABLE rule_sets IN SHARE ROW EXCLUSIVE MODE"))
        latest = conn.execute(_LATEST).first()
        if latest is not None and (first_only or bytes(latest.digest).hex() == digest):
            return Recorded(int(latest.id), bytes(latest.digest).hex(), False)
        new_id = conn.execute(
            _INSERT, {"digest": bytes.fromhex(digest), "document": json.dumps(document), "source": source}
        ).scalar_one()
    return Recorded(int(new_id), digest, True)
