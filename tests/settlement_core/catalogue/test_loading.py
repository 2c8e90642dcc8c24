"""catalogue.loading: the shipped file, and files that are not a catalogue at all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from settlement_core.catalogue import (
    PLAN_UNIT_LABEL,
    IsoSignal,
    Target,
    TargetsFileError,
    load_catalogue,
    load_targets,
)
from settlement_core.rules import Counterparty
from tests.settlement_core.catalogue.samples import SEED

# (code, currency, amount in units, display, name_zh)
EXPECTED = [
    ("cross_border_rmb", "CNY", 600_000_000_000, "6000亿元", "跨境人民币结算"),
    ("cross_border_ecommerce", "CNY", 20_000_000_000, "200亿元", "跨境电子商务结算"),
    ("mnc_headquarters", "CNY", 500_000_000_000, "5000亿元", "跨国公司总部结算"),
    ("offshore", "USD", 600_000_000_000, "6000亿美元", "离岸金融结算"),
    ("factor_market", "CNY", 5_000_000_000_000, "5万亿元", "金融要素市场结算"),
    ("corporate_account", "CNY", 1_000_000_000_000, "1万亿元", "企业账户资金结算"),
]


@pytest.fixture(scope="module")
def seed_targets() -> tuple[Target, ...]:
    return load_targets(SEED)


def test_seed_has_the_six_targets_in_plan_order(seed_targets: tuple[Target, ...]) -> None:
    assert [t.code for t in seed_targets] == [e[0] for e in EXPECTED]
    catalogue = load_catalogue(SEED)
    assert [c.code for c in catalogue.categories] == [e[0] for e in EXPECTED]
    assert catalogue.periods == ("2020",)
    assert {t.period for t in seed_targets} == {"2020"}


@pytest.mark.parametrize(("code", "currency", "amount", "display", "name_zh"), EXPECTED)
def test_seed_target(
    seed_targets: tuple[Target, ...], code: str, currency: str, amount: int, display: str, name_zh: str
) -> None:
    target = next(t for t in seed_targets if t.code == code)
    assert target.code == code
    assert target.currency == currency
    assert target.amount == amount
    assert type(target.amount) is int
    assert target.display == display
    assert target.name_zh == name_zh
    assert target.name_en.strip()
    assert target.window_start == date(2020, 1, 1)
    assert target.window_end == date(2020, 12, 31)
    assert target.window_days == 366  # 2020 is a leap year
    assert display in target.source
    assert target.source.startswith("到 2020年")
    assert display.endswith(PLAN_UNIT_LABEL[currency])


class TestLoadTargets:
    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(TargetsFileError, match="targets file"):
            load_targets(tmp_path / "absent.yaml")

    def test_invalid_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text("targets: [\n", encoding="utf-8")
        with pytest.raises(TargetsFileError, match="not valid YAML"):
            load_targets(path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_bytes("targets: 跨境".encode("gb18030"))
        with pytest.raises(TargetsFileError, match="UTF-8"):
            load_targets(path)

    def test_yaml_datetime_is_refused(self, tmp_path: Path) -> None:
        text = SEED.read_text(encoding="utf-8").replace(
            'window: {start: 2020-01-01, end: 2020-12-31}\n    source: "到 2020年，力争全市跨境',
            'window: {start: 2020-01-01 00:00:00, end: 2020-12-31}\n    source: "到 2020年，力争全市跨境',
            1,
        )
        assert text != SEED.read_text(encoding="utf-8")
        path = tmp_path / "t.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(TargetsFileError, match=r"targets\[0\]\.window\.start"):
            load_targets(path)

    def test_python_tags_are_not_executed(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text("targets: !!python/object/apply:os.getcwd []\n", encoding="utf-8")
        with pytest.raises(TargetsFileError, match="not valid YAML"):
            load_targets(path)


def test_iso20022_signals_name_each_category_code_once() -> None:
    signals = {s.category: s for s in load_catalogue(SEED).iso_signals}
    assert signals == {
        "cross_border_rmb": IsoSignal("cross_border_rmb", None, None, frozenset({"CNY"}), Counterparty.FOREIGN),
        "cross_border_ecommerce": IsoSignal(
            "cross_border_ecommerce", frozenset({"ECPG", "ECPU", "RETL"}), None, None, Counterparty.FOREIGN
        ),
        "mnc_headquarters": IsoSignal(
            "mnc_headquarters", frozenset({"INTC", "CASH", "SWEP", "LIMA"}), None, None, None
        ),
        "offshore": IsoSignal("offshore", None, "OSA", None, None),
    }
