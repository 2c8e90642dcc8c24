"""The shipped catalogue (seeds/targets.yaml) for tests that need its codes or rules."""

from __future__ import annotations

from pathlib import Path

from settlement_core.catalogue import Catalogue, load_catalogue
from settlement_core.rules import NO_RULES, CountingRules

SEED_FILE = Path(__file__).resolve().parents[1] / "seeds" / "targets.yaml"
SEED: Catalogue = load_catalogue(SEED_FILE)
# The six codes of the plan, in catalogue order.
CODES: tuple[str, ...] = tuple(c.code for c in SEED.categories)
KNOWN: frozenset[str] = SEED.codes
RULES: CountingRules = SEED.rules
# Counting without derivation rules: each event toward its declared categories only.
PLAIN: CountingRules = NO_RULES
