"""The catalogue (`seeds/targets.yaml`): categories, targets per period, reference figures
and derivation rules, validated strictly at start-up.

- A category is a statistic of a plan (code, names) with the rules that add it to events,
  and optionally the ISO 20022 facts that classify a transaction into it (`iso20022`:
  purpose codes, the customer's account prefix, currencies, a foreign or domestic
  counterparty), so that each code is named once, here.
- A target is (code, period, amount, currency, window, source); a code may have targets for
  several periods (a successor plan's), whose windows must not overlap.
- A reference is a labelled figure that is not a target: a plan's own baseline
  (`baseline`) or a published outcome (`actual`), each with its source, shown beside the
  tracked figure. References are never counted, and no figure is ever summed across codes.

Every error names the offending field (`categories[0].rules[1].when.currencies`), so a bad
catalogue stops a service at start-up with a message an operator can act on.

Modules: `model` (the values the services use), `fields` (field types and their messages),
`document` (the file's shape and its cross-field checks), `loading` (file to catalogue).
"""

from settlement_core.catalogue.loading import TargetsFileError, load_catalogue, load_targets, parse_catalogue
from settlement_core.catalogue.model import (
    PLAN_UNIT_LABEL,
    YI,
    Catalogue,
    Figure,
    IsoSignal,
    Reference,
    ReferenceKind,
    Target,
)

__all__ = [
    "PLAN_UNIT_LABEL",
    "YI",
    "Catalogue",
    "Figure",
    "IsoSignal",
    "Reference",
    "ReferenceKind",
    "Target",
    "TargetsFileError",
    "load_catalogue",
    "load_targets",
    "parse_catalogue",
]
