"""targets: the catalogue (categories, targets per period, references, rules) and its strict validation."""

from __future__ import annotations

import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from settlement_core.rules import Action, Counterparty
from settlement_core.targets import (
    PLAN_UNIT_LABEL,
    YI,
    IsoSignal,
    ReferenceKind,
    Target,
    TargetsFileError,
    load_catalogue,
    load_targets,
    parse_catalogue,
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


def test_yi_is_ten_to_the_eighth() -> None:
    assert YI == 10**8


def test_window_days_counts_both_ends() -> None:
    target = Target("offshore", "2021", "x", "x", 1, "USD", "x", date(2021, 1, 1), date(2021, 1, 1), "x")
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
        parse_catalogue(document)
    return str(info.value)


def test_seed_document_parses(document: dict[str, Any]) -> None:
    catalogue = parse_catalogue(document)
    assert len(catalogue.targets) == 6
    assert len(catalogue.categories) == 6


@pytest.mark.parametrize("field", ["code", "period", "amount", "currency", "display", "window", "source"])
def test_missing_field(document: dict[str, Any], field: str) -> None:
    del document["targets"][2][field]
    assert error_of(document) == f"targets[2].{field}: missing"


@pytest.mark.parametrize("field", ["code", "name_zh", "name_en"])
def test_missing_category_field(document: dict[str, Any], field: str) -> None:
    del document["categories"][2][field]
    assert error_of(document) == f"categories[2].{field}: missing"


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
    assert error_of(document).startswith("catalogue.target: unknown field")


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


def test_duplicate_period_for_one_code(document: dict[str, Any]) -> None:
    document["targets"][4]["code"] = "cross_border_rmb"
    message = error_of(document)
    assert message.startswith("targets[4].period: duplicate period")
    assert "cross_border_rmb" in message


def test_overlapping_periods_for_one_code(document: dict[str, Any]) -> None:
    extra = copy.deepcopy(document["targets"][0])
    extra.update(period="2020-2021", window={"start": date(2020, 12, 31), "end": date(2021, 12, 31)})
    document["targets"].append(extra)
    message = error_of(document)
    assert message.startswith("targets[6].window: overlaps targets[0] (2020)")


def test_several_periods_per_code_and_the_latest_is_the_default(document: dict[str, Any]) -> None:
    later = copy.deepcopy(document["targets"][0])
    later.update(period="2025", amount=700_000_000_000, window={"start": date(2025, 1, 1), "end": date(2025, 12, 31)})
    document["targets"].append(later)
    catalogue = parse_catalogue(document)
    assert catalogue.periods == ("2020", "2025")
    assert catalogue.latest_period == "2025"
    assert [t.amount for t in catalogue.targets_for("2025")] == [700_000_000_000]
    assert len(catalogue.targets_for("2020")) == 6


def test_a_period_without_a_window_fails_naming_the_field(document: dict[str, Any]) -> None:
    del document["targets"][1]["window"]
    assert error_of(document) == "targets[1].window: missing"


def test_duplicate_category_code(document: dict[str, Any]) -> None:
    document["categories"][4]["code"] = "cross_border_rmb"
    assert error_of(document) == "categories[4].code: duplicate code 'cross_border_rmb'"


@pytest.mark.parametrize("code", ["Offshore", "1x", "a-b", "", "x" * 33, 7])
def test_category_code_syntax(document: dict[str, Any], code: Any) -> None:
    document["categories"][0]["code"] = code
    assert error_of(document).startswith("categories[0].code:")


@pytest.mark.parametrize("period", ["", "20 20", None, ["2020"], "2020/21"])
def test_bad_period(document: dict[str, Any], period: Any) -> None:
    document["targets"][0]["period"] = period
    assert error_of(document).startswith("targets[0].period:")


def test_a_yaml_number_period_is_its_label(document: dict[str, Any]) -> None:
    document["targets"][0]["period"] = 2020
    assert parse_catalogue(document).targets[0].period == "2020"


class TestRules:
    def test_seed_rules(self) -> None:
        rules = {r.rule_id: r for r in load_catalogue(SEED).rules.rules}
        rmb = rules["rmb_ecommerce_and_cash_pool_are_cross_border_rmb"]
        assert (rmb.target, rmb.action, rmb.enabled) == ("cross_border_rmb", Action.ADD, True)
        assert rmb.categories == {"cross_border_ecommerce", "mnc_headquarters"}
        assert (rmb.currencies, rmb.counterparty) == (frozenset({"CNY"}), Counterparty.FOREIGN)
        offshore = rules["offshore_is_foreign_currency"]
        assert (offshore.action, offshore.field, offshore.enabled) == (Action.REFUSE, "currency", True)
        # Not justified by the plan's text: shipped, shown, but disabled.
        assert not rules["offshore_rmb_is_cross_border_rmb"].enabled
        assert not rules["cash_pool_is_corporate_account"].enabled
        assert all(r.source.strip() for r in rules.values())

    def rule(self, document: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = document["categories"][0]["rules"][0]
        return found

    def test_unknown_category_in_a_rule(self, document: dict[str, Any]) -> None:
        self.rule(document)["when"]["categories"] = ["cross_border_ecommerce", "retail"]
        assert error_of(document) == "categories[0].rules[0].when.categories[1]: unknown category 'retail'"

    def test_unknown_field_in_a_rule(self, document: dict[str, Any]) -> None:
        self.rule(document)["when"]["amount_over"] = 100
        assert error_of(document) == "categories[0].rules[0].when.amount_over: unknown field"

    @pytest.mark.parametrize(
        ("key", "value", "where"),
        [
            ("action", "multiply", "action"),
            ("enabled", "yes", "enabled"),
            ("source", "", "source"),
            ("id", None, "id"),
        ],
    )
    def test_bad_rule_field(self, document: dict[str, Any], key: str, value: Any, where: str) -> None:
        self.rule(document)[key] = value
        assert error_of(document).startswith(f"categories[0].rules[0].{where}:")

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("currencies", ["RMB"]),
            ("currencies", []),
            ("counterparty", "abroad"),
            ("direction", "up"),
            ("categories", []),
        ],
    )
    def test_bad_condition(self, document: dict[str, Any], key: str, value: Any) -> None:
        self.rule(document)["when"][key] = value
        assert error_of(document).startswith(f"categories[0].rules[0].when.{key}:")

    def test_refuse_rule_needs_field_and_message(self, document: dict[str, Any]) -> None:
        refuse = document["categories"][3]["rules"][0]
        del refuse["message"]
        assert error_of(document).startswith("categories[3].rules[0].message: missing")

    def test_refuse_rule_field_must_be_an_event_field(self, document: dict[str, Any]) -> None:
        document["categories"][3]["rules"][0]["field"] = "colour"
        assert error_of(document) == "categories[3].rules[0].field: unknown event field 'colour'"

    def test_duplicate_rule_id(self, document: dict[str, Any]) -> None:
        document["categories"][5]["rules"][0]["id"] = self.rule(document)["id"]
        assert error_of(document).startswith("categories[5].rules[0].id: duplicate rule id")


class TestReferences:
    def test_seed_references_are_labelled_non_targets(self) -> None:
        catalogue = load_catalogue(SEED)
        refs = {(r.code, r.period, r.kind): r for r in catalogue.references}
        assert refs[("offshore", "2011-2015", ReferenceKind.BASELINE)].amount == 368_700_000_000
        assert refs[("cross_border_rmb", "2011-2015", ReferenceKind.BASELINE)].amount == 500_000_000_000
        assert refs[("cross_border_rmb", "2020", ReferenceKind.ACTUAL)].amount == 168_700_000_000
        assert refs[("cross_border_rmb", "2016", ReferenceKind.ACTUAL)].amount == 114_040_000_000
        # References never become targets, and add no period to the tracked ones.
        assert catalogue.periods == ("2020",)
        assert all(r.source.strip() for r in catalogue.references)

    def test_bad_kind(self, document: dict[str, Any]) -> None:
        document["references"][0]["kind"] = "target"
        assert error_of(document) == "references[0].kind: must be baseline or actual"

    def test_reference_without_a_window(self, document: dict[str, Any]) -> None:
        del document["references"][1]["window"]
        assert error_of(document) == "references[1].window: missing"

    def test_reference_of_an_unknown_code(self, document: dict[str, Any]) -> None:
        document["references"][0]["code"] = "gdp"
        assert error_of(document) == "references[0].code: unknown category 'gdp'"


def test_bad_home_country(document: dict[str, Any]) -> None:
    document["home_country"] = "China"
    assert error_of(document).startswith("home_country:")


@pytest.mark.parametrize(
    "amount",
    [0, -1, 6e11, 1.5, "600000000000", True, None, [1]],
)
def test_amount_must_be_a_positive_integer(document: dict[str, Any], amount: Any) -> None:
    document["targets"][0]["amount"] = amount
    assert error_of(document) == "targets[0].amount: must be a positive integer"


@pytest.mark.parametrize("field", ["display", "source"])
@pytest.mark.parametrize("value", ["", "   ", 1, None, ["x"]])
def test_text_fields_must_be_non_empty_strings(document: dict[str, Any], field: str, value: Any) -> None:
    document["targets"][0][field] = value
    assert error_of(document) == f"targets[0].{field}: must be a non-empty string"


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
@pytest.mark.parametrize("value", ["", "   ", 1, None, ["x"]])
def test_category_names_must_be_non_empty_strings(document: dict[str, Any], field: str, value: Any) -> None:
    document["categories"][0][field] = value
    assert error_of(document) == f"categories[0].{field}: must be a non-empty string"


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
    assert parse_catalogue(document).targets[0].window_start == date(2020, 1, 1)


def test_end_before_start(document: dict[str, Any]) -> None:
    document["targets"][0]["window"] = {"start": date(2020, 2, 1), "end": date(2020, 1, 31)}
    assert error_of(document) == "targets[0].window.end: before window.start"


@pytest.mark.parametrize("window", ["2020", None, [date(2020, 1, 1), date(2020, 12, 31)]])
def test_window_must_be_a_mapping(document: dict[str, Any], window: Any) -> None:
    document["targets"][0]["window"] = window
    assert error_of(document).startswith("targets[0].window:")


@pytest.mark.parametrize("doc", [None, [], "targets", {}, {"targets": None}])
def test_document_shape(doc: Any) -> None:
    assert error_of(doc).startswith("catalogue")


def test_targets_must_be_a_list(document: dict[str, Any]) -> None:
    document["targets"] = {"code": "offshore"}
    assert error_of(document) == "targets: must be a list"


def test_entry_must_be_a_mapping(document: dict[str, Any]) -> None:
    document["targets"][1] = "offshore"
    assert error_of(document) == "targets[1]: must be a mapping"


def test_an_empty_target_list_is_refused(document: dict[str, Any]) -> None:
    document["targets"] = []
    assert error_of(document) == "targets: must not be empty"


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


@pytest.mark.parametrize(
    ("signal", "message"),
    [
        ({"counterparty": "foreign"}, r"categories\[0\]\.iso20022: needs purposes, account_prefix or currencies"),
        ({"purposes": ["intc"]}, r"iso20022\.purposes: not an ISO 20022 purpose code 'intc'"),
        ({"currencies": ["RMB"]}, r"iso20022\.currencies: unknown currency 'RMB'"),
        ({"purposes": ["INTC"], "counterparty": "abroad"}, r"iso20022\.counterparty: must be foreign or domestic"),
        ({"account_prefix": ""}, r"iso20022\.account_prefix: must be a non-empty string"),
        ({"purposes": ["INTC"], "when": 1}, r"iso20022\.when: unknown field"),
    ],
)
def test_a_bad_iso20022_signal_names_its_field(signal: dict[str, Any], message: str) -> None:
    document = yaml.safe_load(SEED.read_text())
    document["categories"][0]["iso20022"] = signal
    with pytest.raises(TargetsFileError, match=message):
        parse_catalogue(document)
