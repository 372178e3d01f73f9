"""The report is written from the scenario it was solved with, in a director's words first.

Unit tests on hand-made counts and on the shipped scenarios' settings (no solve): the rules
section says each scenario's own radius, gate, exemptions, zones and roles; the director's
tables are worked out by hand below. The end-to-end checks of a rendered report (a small city
and Heze, solved for real) are in tests/test_report_print.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dingdian.scenario.variants import read_config
from dingdian.write import report_brief as B
from dingdian.write.report_rules import override_rows, rule_rows, target_word

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye" / "scenario.yaml"
HEZE = ROOT / "scenarios" / "heze" / "scenario.yaml"
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.yaml"
GATE = [{"year": 2026, "open": True, "reasons": ""},
        {"year": 2027, "open": False,
         "reasons": "上一年度当期赤字 last year's current deficit -18500 万元"}]


def text(rows) -> str:
    return "\n".join(f"{k}: {v}" for k, v in rows)


# --------------------------------------------------------------------------- rules
def test_heze_rules_name_its_radius_gate_exemptions_and_caps():
    cfg = read_config(HEZE)
    t = text(rule_rows(cfg, {"fund_gate": GATE}, columns=["exempt_rule", "priority_class",
                                                            "moves_from"]))
    assert "城区服务圈外接圆半径800米" in t and "农村1600米" in t
    assert "800米规则" in t and "当年初已定点的机构" in t  # near_timing: start
    assert "基金风险" in t and "2027年暂停新增" in t and "2026年" not in t.split("基金风险")[1][:40]
    assert "不受规划限制" in t and "优先纳入" in t and "跨区迁移" in t
    assert "规划上限" in t and "不超过规划上限" in t  # target_mode: at_most
    assert "附表1、附表2" in t  # its own table names
    assert "二(三)3" in t and t.count("二(三)3") == 1  # three categories, one sentence, said once
    assert "1060.82" not in t and "甘州区" not in t and "特殊区域" not in t


def test_heze_rules_without_the_columns_leave_the_column_rules_out():
    t = text(rule_rows(read_config(HEZE), {"fund_gate": GATE}, columns=[]))
    assert "800米规则" in t and "基金风险" in t  # the radius and the fund file are the config's
    assert "不受规划限制" not in t and "优先纳入" not in t and "跨区迁移" not in t


def test_zhangye_rules_name_its_radius_zones_roles_and_sequencing():
    cfg = read_config(ZHANGYE)
    t = text(rule_rows(cfg, {}, streets=["甘州区"]))
    assert "城区服务圈外接圆半径1060.82米" in t and "农村2121.64米" in t and "肃南县" in t
    assert "2024年已覆盖" in t
    assert "特殊区域" in t and "需专家论证并批准" in t  # budget_per_year: 0
    assert "门诊慢特病统筹药店按服务人口3万—5万人配置1家" in t and "每个县区至少1家" in t
    assert "考核得分不低于70分" in t
    assert "先退后进" in t and "绿色通道" in t
    assert "到农村偏远地区的连锁药店" in t  # chain: remote
    assert "规划目标" in t and "等于规划数" in t and "表6、表7" in t and "表8、表9" in t
    assert "甘州区各街道" in t
    assert "村卫生室（原则上行政村卫生室不做调控（五(二)1(2)））" in t
    assert "800米规则" not in t and "基金风险" not in t


def test_a_changed_radius_is_what_the_report_says():
    cfg = read_config(ZHANGYE)
    cfg = cfg.model_copy(update={"grid": cfg.grid.model_copy(update={"urban_radius_m": 800.0})})
    t = text(rule_rows(cfg, {}))
    assert "外接圆半径800米" in t and "1060.82" not in t


def test_a_variant_lists_its_overrides():
    cfg = read_config(ZHANGYE.parent / "variants" / "tight_exits.yaml")
    rows = override_rows(cfg)
    assert len(rows) == 6
    assert rows[0] == ("甘州区 定点零售药店 2025年", "退出20家")
    assert override_rows(read_config(ZHANGYE)) == []


def test_target_word_follows_the_target_mode():
    assert target_word(read_config(ZHANGYE)) == "目标"
    assert target_word(read_config(HEZE)) == "上限"


# --------------------------------------------------------------------------- the brief
def _counts() -> pd.DataFrame:
    """Two counties A, B and one kind over 2024–2030 (2024 the base year).

    A: 10 pharmacies; admits 2 in 2025, exits 3 in 2026 → 9 from 2026 (2028: 9, 2030: 9).
    B: 5 pharmacies; exits 1 in 2028 → 4 from 2028.
    City: 15 → 13; admitted 2, exited 4.
    """
    rows = []
    for y in range(2024, 2031):
        a = 10 if y == 2024 else 12 if y == 2025 else 9
        b = 5 if y < 2028 else 4
        adm_a, ex_a = (2 if y == 2025 else 0), (3 if y == 2026 else 0)
        ex_b = 1 if y == 2028 else 0
        rows += [("A", "", "pharmacy", y, a, adm_a, ex_a), ("B", "", "pharmacy", y, b, 0, ex_b),
                 ("全市", "", "pharmacy", y, a + b, adm_a, ex_a + ex_b)]
    return pd.DataFrame(rows, columns=["county", "street", "kind", "year", "designated",
                                       "admitted", "exited"])


TARGETS = {"targets": [
    {"county": "A", "kind": "pharmacy", "target_2028": 9, "target_2030": 9},
    {"county": "B", "kind": "pharmacy", "target_2028": 4, "target_2030": 3}]}


def test_headline_by_hand():
    assert B.headline(_counts()) == [
        "至2030年末，全市定点零售药店由2024年末的15家调整为13家（减少2家）：准入2家，退出4家。"]


def test_changes_by_year_by_hand():
    t = B.changes_by_year(_counts())
    assert list(t["年度"]) == [f"{y}年" for y in range(2025, 2031)]
    assert list(t["定点零售药店准入"]) == [2, 0, 0, 0, 0, 0]
    assert list(t["定点零售药店退出"]) == [0, 3, 0, 1, 0, 0]
    assert list(t["定点零售药店年末"]) == [17, 14, 14, 13, 13, 13]


def test_changes_by_county_against_targets_by_hand():
    # A: 9 in 2028 and 2030 against 9/9: met. B: 4 in 2030 against 3: not met.
    # 全市: targets 13/12 summed; 13 in 2030 ≠ 12: not met.
    t = B.changes_by_county(_counts(), TARGETS, "pharmacy")
    assert list(t.columns) == ["县区", "2024年末", "2028年末", "2030年末", "准入", "退出",
                               "2028年目标", "2030年目标", "是否达到"]
    assert t.set_index("县区").loc["A"].tolist() == [10, 9, 9, 2, 3, 9, 9, "是"]
    assert t.set_index("县区").loc["B"].tolist() == [5, 4, 4, 0, 1, 4, 3, "否"]
    assert t.set_index("县区").loc["全市"].tolist() == [15, 13, 13, 2, 4, 13, 12, "否"]


def test_changes_by_county_against_caps_by_hand():
    # as caps (上限): B's 4 against 3 is still over; A's 9 ≤ 9 holds
    t = B.changes_by_county(_counts(), TARGETS, "pharmacy", "上限").set_index("县区")
    assert "2030年上限" in t.columns and "是否符合" in t.columns
    assert t.loc["A", "是否符合"] == "是" and t.loc["B", "是否符合"] == "否"


def test_where_names_the_counties_with_the_most_changes():
    assert B.where_sentences(_counts()) == [
        "定点零售药店：准入最多的是A（2家）；退出最多的是A（3家）、B（1家）。"]


@pytest.mark.parametrize("n, want", [(0, "0人"), (9999, "9999人"), (10000, "1.0万人"),
                                     (4214651, "421.5万人")])
def test_people(n, want):
    assert B.people(n) == want


def test_approvals_name_what_needs_a_decision():
    s = {"status": "optimal", "verification": {"checked": True, "passed": True},
         "fund_gate": GATE, "beds": {"paused_years": [2026, 2027]},
         "allocation": {"special_zones": {"proposals": {"candidates": 98, "population": 15590,
                                                         "file": "zone_proposals.csv"}}}}
    got = B.approvals(s, "上限", ["附表1", "附表2"])
    assert got[0].startswith("审定年度准入、退出计划（附表1、附表2）")
    assert any("特殊区域准入建议98家" in a and "1.6万人" in a and "专家论证" in a for a in got)
    assert any(a.startswith("基金风险：2027年暂停新增（上一年度当期赤字）") for a in got)
    assert any("2026、2027年暂停住院定点" in a for a in got)
    assert any("按上限执行" in a for a in got)
    bad = B.approvals({"status": "feasible", "verification": {"checked": True, "passed": False,
                                                              "violations": [1, 2]}}, "目标", [])
    assert any("未证明最优" in a for a in bad) and any("2处不符合规则" in a for a in bad)


def test_appendix_has_no_path_and_no_raw_term_names():
    s = {"scenario": {"name": "x", "path": "/home/someone/city/scenario.yaml"},
         "status": "optimal", "objective_terms": {"8a_coverage": -10, "8c_exits": 5}}
    rows = dict(B.appendix_rows(s))
    assert rows["情景"] == "x（scenario.yaml）"
    assert "目标分项 8a 服务盲区未覆盖（人·年）" in rows
    assert not any("/home/" in str(v) for v in rows.values())
