from __future__ import annotations

from typing import Any

import pytest

from tests.settlement_core.catalogue.samples import seed_document


@pytest.fixture
def document() -> dict[str, Any]:
    return seed_document()
