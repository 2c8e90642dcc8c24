"""Where the public data beside the repository is (never copied into it): $SHARED_DIR, else
`<repo root>/../shared`, else /work/shared."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.stack import ROOT


def shared_dir() -> Path:
    configured = os.environ.get("SHARED_DIR")
    if configured:
        return Path(configured)
    beside = ROOT.parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


SAMPLES_DIR = shared_dir() / "iso20022-samples"
CODES_DIR = shared_dir() / "iso20022-codes"
SCHEMAS_DIR = shared_dir() / "iso20022-schemas"
