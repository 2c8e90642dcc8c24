"""targets: the six plan targets and strict validation of the targets file."""

from __future__ import annotations

import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from settlement_core.categories import Category
from settlement_core.targets import (
    PLAN_UNIT_LABEL,
    YI,
    Target,
    TargetsFileError,
    load_targets,
    parse_targets,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "targets.yaml"

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
    assert [t.code.value for t in seed_targets] == [e[0] for e in EXPECTED]
    assert {t.code for t in seed_targets} == set(Category)


@pytest.mark.parametrize(("code", "currency", "amount", "display", "name_zh"), EXPECTED)
def test_seed_target(
    seed_targets: tuple[Target, ...], code: str, currency: str, amount: int, display: str, name_zh: str
) -> None:
    target = next(t for t in seed_targets if t.code.value == code)
    assert target.code is Category(code)
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


def test_yi_is_ten_to_the_eighth() -> None:
    assert YI == 10**8


def test_window_days_counts_both_ends() -> None:
    target = Target(Category.OFFSHORE, "x", "x", 1, "USD", "x", date(2021, 1, 1), date(2021, 1, 1), "x")
    assert target.window_days == 1
    assert dataclass_replace(target, window_end=date(2021, 12, 31)).window_days == 365


def dataclass_replace(target: Target, **changes: Any) -> Target:
    import dataclasses

    return dataclasses.replace(target, **changes)


# ---------------------------------------------------------------- malformed documents


@pytest.fixture
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def error_of(document: Any) -> str:
    with pytest.raises(TargetsFileError) as info:
        parse_targets(document)
    return str(info.value)


def test_seed_document_parses(document: dict[str, Any]) -> None:
    assert len(parse_targets(document)) == 6


@pytest.mark.parametrize(
    "field",
    ["code", "name_zh", "name_en", "amount", "currency", "display", "window", "source"],
)
def test_missing_field(document: dict[str, Any], field: str) -> None:
    del document["targets"][2][field]
    assert error_of(document) == f"targets[2].{field}: missing"


@pytest.mark.parametrize("field", ["start", "end"])
def test_missing_window_bound(document: dict[str, Any], field: str) -> None:
    del document["targets"][1]["window"][field]
    assert error_of(document).startswith(f"targets[1].window.{field}:")


def test_unknown_field(document: dict[str, Any]) -> None:
    document["targets"][0]["unit"] = "亿元"
    assert error_of(document) == "targets[0].unit: unknown field"


def test_unknown_window_field(document: dict[str, Any]) -> None:
    document["targets"][0]["window"]["timezone"] = "Asia/Shanghai"
    assert error_of(document) == "targets[0].window.timezone: unknown field"


def test_unknown_top_level_field(document: dict[str, Any]) -> None:
    document["target"] = []
    assert error_of(document).startswith("target: unknown field")


@pytest.mark.parametrize("currency", ["XYZ", "cny", "RMB", "CNY "])
def test_bad_currency(document: dict[str, Any], currency: str) -> None:
    document["targets"][3]["currency"] = currency
    assert error_of(document).startswith("targets[3].currency: unknown currency")


@pytest.mark.parametrize("currency", [156, None, "", ["CNY"]])
def test_currency_of_wrong_type(document: dict[str, Any], currency: Any) -> None:
    document["targets"][3]["currency"] = currency
    assert error_of(document).startswith("targets[3].currency:")


@pytest.mark.parametrize("code", ["retail", "OFFSHORE", 1, None, ["offshore"]])
def test_bad_code(document: dict[str, Any], code: Any) -> None:
    document["targets"][3]["code"] = code
    assert error_of(document).startswith("targets[3].code: unknown category")


def test_duplicate_code(document: dict[str, Any]) -> None:
    document["targets"][4]["code"] = "cross_border_rmb"
    message = error_of(document)
    assert message.startswith("targets[4].code: duplicate")
    assert "cross_border_rmb" in message


def test_missing_category(document: dict[str, Any]) -> None:
    del document["targets"][5]
    message = error_of(document)
    assert message.startswith("targets:")
    assert "corporate_account" in message


@pytest.mark.parametrize(
    "amount",
    [0, -1, 6e11, 1.5, "600000000000", True, None, [1]],
)
def test_amount_must_be_a_positive_integer(document: dict[str, Any], amount: Any) -> None:
    document["targets"][0]["amount"] = amount
    assert error_of(document) == "targets[0].amount: must be a positive integer"


@pytest.mark.parametrize("field", ["name_zh", "name_en", "display", "source"])
@pytest.mark.parametrize("value", ["", "   ", 1, None, ["x"]])
def test_text_fields_must_be_non_empty_strings(document: dict[str, Any], field: str, value: Any) -> None:
    document["targets"][0][field] = value
    assert error_of(document) == f"targets[0].{field}: must be a non-empty string"


@pytest.mark.parametrize(
    "value",
    [
        "2020-13-01",
        "2020-02-30",
        "2020/01/01",
        "20200101",
        "2020-W01-1",
        "01-01-2020",
        "2020-1-1",
        "",
        None,
        20200101,
        2020,
        [2020, 1, 1],
        datetime(2020, 1, 1, 10, 0),
    ],
)
@pytest.mark.parametrize("bound", ["start", "end"])
def test_bad_date(document: dict[str, Any], bound: str, value: Any) -> None:
    document["targets"][0]["window"][bound] = value
    assert error_of(document) == f"targets[0].window.{bound}: must be a date YYYY-MM-DD"


def test_quoted_date_string_is_accepted(document: dict[str, Any]) -> None:
    document["targets"][0]["window"] = {"start": "2020-01-01", "end": "2020-12-31"}
    assert parse_targets(document)[0].window_start == date(2020, 1, 1)


def test_end_before_start(document: dict[str, Any]) -> None:
    document["targets"][0]["window"] = {"start": date(2020, 2, 1), "end": date(2020, 1, 31)}
    assert error_of(document) == "targets[0].window.end: before window.start"


@pytest.mark.parametrize("window", ["2020", None, [date(2020, 1, 1), date(2020, 12, 31)]])
def test_window_must_be_a_mapping(document: dict[str, Any], window: Any) -> None:
    document["targets"][0]["window"] = window
    assert error_of(document).startswith("targets[0].window:")


@pytest.mark.parametrize("doc", [None, [], "targets", {}, {"targets": None}, {"targets": {"code": "offshore"}}])
def test_document_shape(doc: Any) -> None:
    assert error_of(doc).startswith("targets:")


def test_entry_must_be_a_mapping(document: dict[str, Any]) -> None:
    document["targets"][1] = "offshore"
    assert error_of(document) == "targets[1]: must be a mapping"


def test_empty_list_names_every_missing_category() -> None:
    message = error_of({"targets": []})
    for category in Category:
        assert category.value in message


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
