"""Where the API finds the reporting deadlines (ApiSettings.deadlines_path), without I/O
beyond a temporary folder."""

from __future__ import annotations

from pathlib import Path

from settlement_api.settings import ApiSettings
from tests.conftest import ROOT


def test_the_shipped_seeds_have_their_deadlines_beside_the_catalogue() -> None:
    settings = ApiSettings.model_construct(targets_file=ROOT / "seeds" / "targets.yaml")
    assert settings.deadlines_path == ROOT / "seeds" / "deadlines.yaml"


def test_a_catalogue_alone_has_no_deadlines_and_a_set_file_wins(tmp_path: Path) -> None:
    catalogue = tmp_path / "targets.yaml"
    catalogue.write_text("{}", encoding="utf-8")
    assert ApiSettings.model_construct(targets_file=catalogue).deadlines_path is None
    chosen = tmp_path / "elsewhere.yaml"
    assert ApiSettings.model_construct(targets_file=catalogue, deadlines_file=chosen).deadlines_path == chosen
