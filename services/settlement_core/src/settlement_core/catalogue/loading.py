"""Reading the catalogue file: YAML to a validated `Catalogue`, or a `TargetsFileError`
naming the offending field (`categories[0].rules[1].when.currencies: ...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from settlement_core.catalogue.document import CatalogueDocument
from settlement_core.catalogue.fields import A_LIST, A_MAPPING, PROBLEM
from settlement_core.catalogue.model import Catalogue, Target
from settlement_core.seed_files import read_yaml

# Pydantic's structural errors in the catalogue's words; every other message is the field
# type's own (fields.problem).
_STRUCTURE = {
    "missing": "missing",
    "extra_forbidden": "unknown field",
    "model_type": A_MAPPING,
    "model_attributes_type": A_MAPPING,
    "list_type": A_LIST,
    "too_short": "must not be empty",
}
# The document itself is called "catalogue" where its own keys are missing or unknown.
_DOCUMENT = "catalogue"


class TargetsFileError(ValueError):
    """A malformed catalogue; the message names the offending field."""


def load_catalogue(path: Path) -> Catalogue:
    return parse_catalogue(read_yaml(path, "targets", TargetsFileError))


def load_targets(path: Path) -> tuple[Target, ...]:
    """The targets of the catalogue's latest period (one per code), for tools that only
    need the figures currently tracked (the demo feed, `settlementctl init`)."""
    catalogue = load_catalogue(path)
    return catalogue.targets_for(catalogue.latest_period)


def parse_catalogue(document: Any) -> Catalogue:
    """The catalogue of a loaded YAML document; raises TargetsFileError naming the first
    problem, the one an operator fixes first (the file is read once, at start-up)."""
    try:
        valid = CatalogueDocument.model_validate(document)
    except ValidationError as exc:
        raise TargetsFileError(describe(exc.errors(include_url=False)[0])) from None
    return valid.to_catalogue()


def describe(error: ErrorDetails) -> str:
    """`path: message`, the path written as in the file (`targets[6].window`)."""
    kind, location = error["type"], error["loc"]
    message = error["msg"] if kind == PROBLEM else _STRUCTURE.get(kind, error["msg"])
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).removeprefix(".")
    if not location:
        path = _DOCUMENT
    elif len(location) == 1 and kind in ("missing", "extra_forbidden"):
        path = f"{_DOCUMENT}.{path}"
    return f"{path}: {message}"
