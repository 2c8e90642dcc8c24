"""The client's shipped `contract.json`, derived from the server's own constants.

The client may not import the server packages, so it ships these rules as data; this module
builds that data from the constants the validators use, and `test_contract_file` fails when
the shipped copy drifts. Regenerate with `make client-contract`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from settlement_core.catalogue import load_catalogue
from settlement_core.categories import Direction
from settlement_core.corrections import MAX_REASON_TEXT, REASON_TEXT_PATTERN, load_reason_codes
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.money import MINOR_UNITS
from settlement_core.settings import IntakeRules
from settlement_ingest import validation
from settlement_ingest.settings import IngestSettings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "services" / "client" / "src" / "settlement_client" / "contract.json"


def expected() -> dict[str, Any]:
    rules = IntakeRules()
    limits = IngestSettings.model_fields
    return {
        "required": list(validation.REQUIRED),
        "optional": list(validation.OPTIONAL),
        "event_id_pattern": EVENT_ID_PATTERN.pattern,
        "categories": sorted(load_catalogue(ROOT / "seeds" / "targets.yaml").codes),
        "directions": [d.value for d in Direction],
        "currencies": sorted(rules.accepted_currencies),
        "minor_units": dict(sorted(MINOR_UNITS.items())),
        "max_amount": f"{rules.max_amount:f}",
        "earliest_value_date": rules.earliest_value_date,
        "value_date_future_days": rules.value_date_future_days,
        "business_timezone": IngestSettings.model_fields["business_timezone"].default,
        "countries": sorted(validation.COUNTERPARTY_COUNTRIES),
        "max_batch_events": limits["max_batch_events"].default,
        "max_body_bytes": limits["max_body_bytes"].default,
        "reasons": {
            r.code: {"label": r.label, "correction": r.correction, "text_required": r.text_required}
            for r in sorted(
                load_reason_codes(ROOT / "seeds" / "correction_reasons.yaml").codes.values(), key=lambda r: r.code
            )
        },
        "max_reason_text": MAX_REASON_TEXT,
        "reason_text_pattern": REASON_TEXT_PATTERN.pattern,
    }


def render() -> str:
    return json.dumps(expected(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SHIPPED.write_text(render())
    print(f"wrote {SHIPPED}")
