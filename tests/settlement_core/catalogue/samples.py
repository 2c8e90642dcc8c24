"""The shipped catalogue as a document to break, and the message a broken one raises."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from settlement_core.catalogue import TargetsFileError, parse_catalogue

SEED = Path(__file__).resolve().parents[3] / "seeds" / "targets.yaml"


def seed_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def error_of(document: Any) -> str:
    with pytest.raises(TargetsFileError) as info:
        parse_catalogue(document)
    return str(info.value)
