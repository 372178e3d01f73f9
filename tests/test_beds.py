"""Hospital beds: the need formula, Heze's rule, Zhangye's figures and the reduction model.

Every number asserted here is worked out by hand in the comment above it.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dingdian.errors import ScenarioError
from dingdian.models.beds import (
    BedProblem,
    Hospital,
    allocate_new_beds,
    build_bed_model,
    fund_coefficient,
    heze_branch,
    implied_population,
    needed_beds_per_thousand,
    patient_coefficient,
    plan_frame,
    population_share,
    ratio_split,
)
from dingdian.planners.beds import T1, T4, T5, TH, plan_beds
from dingdian.planners.beds_check import check_zhangye
from dingdian.result import INFEASIBLE, OPTIMAL
from dingdian.run.backends import BACKENDS, run_backend
from dingdian.scenario.beds import PublishedTables

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE, HEZE = ROOT / "scenarios" / "zhangye", ROOT / "scenarios" / "heze"
REFERENCE = Path("/work/shared/reference/zhangye/beds.csv")


# --------------------------------------------------------------------------- formula
def test_needed_beds_formula_by_hand():
    # Three age bands: rates 0.1, 0.2, 0.4 × insured 1000, 2000, 500 → 100 + 400 + 200 = 700
    # admissions. × 10 days × 1000 = 7,000,000; ÷ (0.8 × 365 × 3500 = 1,022,000) = 6.849315…;
    # × patient coef 0.9 × fund coef 1.2 (= 1.08) → 7,560,000 / 1,022,000 = 7.397260273972603.
    value = needed_beds_per_thousand([0.1, 0.2, 0.4], [1000, 2000, 500], 10, 0.8, 3500, 0.9, 1.2)
    assert abs(value - 7_560_000 / 1_022_000) < 1e-9
    assert abs(value - 7.397260273972603) < 1e-9
    by_band = needed_beds_per_thousand({"0-17": 0.1, "18-59": 0.2, "60+": 0.4},
                                       {"60+": 500, "0-17": 1000, "18-59": 2000},
                                       10, 0.8, 3500, 0.9, 1.2)
    assert abs(by_band - value) < 1e-9


@pytest.mark.parametrize("kwargs, word", [
    ({"occupancy": 0}, "occupancy"), ({"total_insured": 0}, "total_insured"),
    ({"avg_stay_days": -1}, "avg_stay_days"), ({"rates_by_age": [0.1, 0.2]}, "lengths"),
])
def test_needed_beds_rejects_bad_input(kwargs, word):
    args = {"rates_by_age": [0.1, 0.2, 0.4], "insured_by_age": [1000, 2000, 500],
            "avg_stay_days": 10, "occupancy": 0.8, "total_insured": 3500}
    with pytest.raises(ValueError, match=word):
        needed_beds_per_thousand(**{**args, **kwargs})


def test_coefficients_by_hand():
    # (1000 − 100 + 50) ÷ 1000 = 0.95; 9 ÷ 6 = 1.5
    assert patient_coefficient(1000, 100, 50) == pytest.approx(0.95, abs=1e-12)
    assert fund_coefficient(9, 6) == pytest.approx(1.5, abs=1e-12)
    with pytest.raises(ValueError, match="local_local"):
        patient_coefficient(0, 10, 10)
    with pytest.raises(ValueError, match="months_required"):
        fund_coefficient(6, 0)


def test_heze_branches_by_hand():
    assert heze_branch(5.0, 7.5, 6.0) == "pause"  # 5 < 7.5 and 5 < 6
    assert heze_branch(8.0, 7.5, 6.0) == "allocate"  # 8 > 7.5 and 8 > 6
    assert heze_branch(7.0, 7.5, 6.0) == "hold"  # 6 < 7 < 7.5: neither branch
    assert heze_branch(7.0, 7.5, 8.0) == "pause"  # below both
    assert heze_branch(7.5, 7.5, 6.0) == "hold"  # equal to the target: not strictly above


def test_allocate_new_beds_by_hand():
    # (8.0 − 7.0) × 1,000,000 / 1000 = 1000 new beds. 甲 is outside, 丁 below 70 % occupancy.
    # Weights population × occupancy: 乙 300,000 × 0.8 = 240,000; 丙 200,000 × 0.9 = 180,000.
    # Exact shares 1000 × 240/420 = 571.43 and 428.57 → floors 571 + 428 = 999; the missing unit
    # goes to the larger fractional part (丙 .57) → 乙 571, 丙 429.
    counties = {"甲": (400_000, 0.9), "乙": (300_000, 0.8), "丙": (200_000, 0.9),
                "丁": (100_000, 0.6)}
    got = allocate_new_beds(8.0, 7.0, 1_000_000, counties, target=7.5, outside=["甲", "戊"],
                            min_occupancy=0.7)
    assert got == {"甲": 0, "乙": 571, "丙": 429, "丁": 0}
    assert allocate_new_beds(5.0, 7.0, 1_000_000, counties) == dict.fromkeys(counties, 0)


def test_zhangye_published_figures():
    # 9856 × 1000 / 8.96 = 1,100,000 exactly; 3:5:2 of 9856 = 2956.8 / 4928 / 1971.2 → the one
    # missing unit goes to 三级 (.8) → 2957 / 4928 / 1971 = 表5.
    assert implied_population(9856, 8.96) == pytest.approx(1_100_000, abs=1e-6)
    assert ratio_split(9856, {"三级": 3, "二级": 5, "一级及未定级": 2}) == {
        "三级": 2957, "二级": 4928, "一级及未定级": 1971}
    # Census shares (1,131,016 in all): 甘州区 9856 × 519096 / 1131016 = 4523.55 → 4524 vs 4560.
    census = pd.read_csv(ZHANGYE / "census.csv").set_index("county")["population"].to_dict()
    share = population_share(9856, census)
    assert sum(share.values()) == 9856 and share["甘州区"] == 4524 and share["民乐县"] == 1678


# --------------------------------------------------------------------------- tiny model
def _tiny(min_share: float = 0.5, levels=(165, 75)) -> tuple[BedProblem, PublishedTables]:
    # Counties A (h1, h2) and B (h3, h4), levels L1 (h1, h3) and L2 (h2, h4); occupancy in ‰.
    spec = [("h1", "A", "L1", 100, 900), ("h2", "A", "L2", 60, 500),
            ("h3", "B", "L1", 80, 700), ("h4", "B", "L2", 40, 400)]
    hs = tuple(Hospital(i, c, lv, b, o, math.ceil(min_share * b), nursing_allowed=(i == "h4"))
               for i, c, lv, b, o in spec)
    problem = BedProblem(hs, 2024, (2025, 2026), {"A": 140, "B": 100},
                         {"L1": levels[0], "L2": levels[1]})
    tables = PublishedTables(county={"A": (160, 140), "B": (120, 100)},
                             level={"L1": (180, levels[0]), "L2": (100, levels[1])})
    return problem, tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_reduction_by_hand(backend):
    # A cuts 160 → 140 (20), B 120 → 100 (20); L1 180 → 165 (15), L2 100 → 75 (25).
    # With x = h1's cut: h2 = 20 − x, h3 = 15 − x, h4 = 25 − (20 − x) = 5 + x, 0 ≤ x ≤ 15
    # (floors 50 %: h4 may lose 20). Cost 900x + 500(20 − x) + 700(15 − x) + 400(5 + x)
    # = 22,500 + 100x → x = 0: h1 100, h2 40, h3 65, h4 35 (cost 22,500).
    # Spread: each county at most ⌈20/2⌉ = 10 a year → peaks 10 + 10 = +20.
    # Nursing: only h4 may convert, n ≤ its cut 5 → −5. Objective 22,500 + 20 − 5 = 22,515.
    problem, tables = _tiny()
    model = build_bed_model(problem)
    status, objective, _bound, values, _msg = run_backend(model, backend, None)
    assert status == OPTIMAL
    assert objective == pytest.approx(22_515, abs=1e-6)
    frame = plan_frame(model, values)
    last = frame[frame["year"] == 2026].set_index("hospital_id")
    assert last["beds"].to_dict() == {"h1": 100, "h2": 40, "h3": 65, "h4": 35}
    assert int(frame["to_nursing"].sum()) == 5
    assert frame[frame["year"] > 2024].groupby(["county", "year"])["cut"].sum().eq(10).all()
    assert check_zhangye(frame, problem, tables) == []


def test_residual_checks_catch_a_broken_plan():
    # h1 loses one bed in 2026 without a recorded cut, and "converts" a bed it may not:
    # the flow, 表4 (A: 139 ≠ 140), 表5 (L1: 164 ≠ 165) and the nursing rule all break.
    problem, tables = _tiny()
    model = build_bed_model(problem)
    _status, _obj, _bound, values, _msg = run_backend(model, "highs", None)
    frame = plan_frame(model, values)
    hit = (frame["hospital_id"] == "h1") & (frame["year"] == 2026)
    frame.loc[hit, "beds"] -= 1
    frame.loc[hit, "to_nursing"] = 1
    found = check_zhangye(frame, problem, tables)
    assert any(v.startswith("表4 A: 2026 beds 139") for v in found)
    assert any(v.startswith("表5 L1: 2026 beds 164") for v in found)
    assert any(v.startswith("h1 2026: beds 99") for v in found)
    assert any("to nursing" in v for v in found)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_reduction_infeasible_twin(backend):
    # Levels L1 180 (no cut), L2 60 (cut 40): both margins add up to 240 like the counties.
    # L1 may not shrink, so A's 20 come from h2 and B's 20 from h4 — but with 60 % floors h4
    # (40 beds, floor 24) can lose only 16: the county and level totals cannot both hold.
    problem, _tables = _tiny(min_share=0.6, levels=(180, 60))
    status, *_ = run_backend(build_bed_model(problem), backend, None)
    assert status == INFEASIBLE


# --------------------------------------------------------------------------- shipped data
@pytest.mark.parametrize("backend", BACKENDS)
def test_zhangye_reproduces_tables_4_and_5(backend):
    r = plan_beds(ZHANGYE, "beds/beds.yaml", backend)
    assert r.summary["status"] == OPTIMAL and r.violations == []
    ref = pd.read_csv(REFERENCE)
    county = ref[ref["group"] == "county"].set_index("key")
    level = ref[ref["group"] == "level"].set_index("key")
    t4 = r.files[T4].set_index("地区")
    assert t4.loc[county.index, "现有床位数（张）"].tolist() == county["existing_2024"].tolist()
    assert (t4.loc[county.index, "按人口比例分配床位数（张）必需床位数"].tolist()
            == county["planned_2030"].tolist())
    assert t4.loc["全市"].tolist() == [11762, 9856, -1906]
    assert t4.loc["高台县", "床位调整数（张）"] == 20
    for path, suffix in ((T5, "医疗机构"), (T1, "定点医疗机构")):
        t = r.files[path].set_index("定点医疗机构")
        assert [t.loc[k + suffix, "规划床位数（张）"] for k in level.index] == [2957, 4928, 1971]
        assert [t.loc[k + suffix, "现有床位数（张）"] for k in level.index] == [3457, 5728, 2577]
        assert t.loc["合计", "规划调整数（张）"] == -1906
    f = r.summary["figures"]
    assert f["implied_population"] == 1_100_000 and f["population_share_l1"] == 72
    assert any("11,553" in n and "11,328" in n and "11,762" in n for n in r.summary["notes"])
    # The objective is the same optimum on every backend (hand-checked once with HiGHS).
    assert r.summary["objective"] == pytest.approx(1_325_330, abs=1e-6)


def test_heze_shipped_pauses():
    # Σ rate × insured = 0.06·1.65M + 0.09·2.9M + 0.17·1.85M + 0.30·1.25M + 0.40·0.45M
    # = 99,000 + 261,000 + 314,500 + 375,000 + 180,000 = 1,229,500.
    # × 8.6 × 1000 / (0.80 × 365 × 8,100,000) = 10,573,700,000 / 2,365,200,000 = 4.47054…;
    # patient coef (1,120,000 − 110,000 + 45,000) / 1,120,000 = 0.941964…; fund 6.6 / 6 = 1.1
    # → 4.632188628717…; actual 55,900 × 1000 / 8,795,939 = 6.3552 → below both: pause.
    r = plan_beds(HEZE, "beds/beds.yaml")
    f = r.summary["figures"]
    expect = 1_229_500 * 8.6 * 1000 / (0.8 * 365 * 8_100_000) * (1_055_000 / 1_120_000) * 1.1
    assert abs(f["computed"] - expect) < 1e-9
    assert r.summary["branch"] == "pause" and r.violations == []
    assert r.files["beds.csv"]["added"].sum() == 0
    assert TH in r.files


def test_heze_allocate_branch(tmp_path):
    # Occupancy 0.45 instead of 0.80 raises the need by 0.80/0.45: 4.632 × 1.778 = 8.235 > 7.5
    # and > 6.355 → allocate ⌊(8.235 − 6.355) × 8,795.939⌋ beds, none to 牡丹区, 定陶区 or
    # the counties below 75 % occupancy (成武县, 鄄城县).
    scen = tmp_path / "heze"
    shutil.copytree(HEZE / "beds", scen / "beds")
    y = scen / "beds" / "beds.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("occupancy: 0.80", "occupancy: 0.45"),
                 encoding="utf-8")
    # Every year is evaluated on its own fund months (by_year, as fund.csv): 2027's 5.4 of 6
    # (× 0.9 instead of × 1.1) gives 8.235 × 0.9 / 1.1 = 6.74, between 6.355 and 7.5: hold.
    r = plan_beds(scen, "beds/beds.yaml")
    f = r.summary["figures"]
    assert r.summary["branch"] == "allocate" and r.violations == []
    assert f["new_beds"] == math.floor((f["computed"] - f["actual"]) * 8_795_939 / 1000)
    beds = r.files["beds.csv"]
    added = beds[beds["year"] == 2026].set_index("county")["added"]
    assert added.sum() == f["new_beds"] > 0
    assert (added[["牡丹区", "定陶区", "成武县", "鄄城县"]] == 0).all()
    assert (added[["曹县", "单县", "巨野县", "郓城县", "东明县"]] > 0).all()
    assert r.summary["branches"] == {"2026": "allocate", "2027": "hold", "2028": "allocate",
                                     "2029": "allocate", "2030": "allocate"}
    assert r.summary["paused_years"] == [] and beds["paused"].sum() == 0
    assert beds.loc[beds["year"] == 2027, "added"].sum() == 0


def test_zhangye_generator_is_deterministic():
    spec = importlib.util.spec_from_file_location(
        "make_hospitals", ZHANGYE / "beds" / "make_hospitals.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.render() == (ZHANGYE / "beds" / "hospitals.csv").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bad input
def _copy_zhangye(tmp_path: Path) -> Path:
    scen = tmp_path / "zhangye"
    shutil.copytree(ZHANGYE / "beds", scen / "beds", ignore=shutil.ignore_patterns("*.py"))
    shutil.copy(ZHANGYE / "census.csv", scen / "census.csv")
    return scen


@pytest.mark.parametrize("edit, where", [
    (lambda f: f.assign(beds=f["beds"].where(f.index != 4, -3)), "hospitals.csv row 6, field 'beds'"),
    (lambda f: f.assign(level=f["level"].where(f.index != 9, "四级")),
     "hospitals.csv row 11, field 'level'"),
    (lambda f: f.drop(columns=["occupancy"]), "hospitals.csv, field 'occupancy'"),
    (lambda f: f.assign(beds=f["beds"].where(f.index != 0, f["beds"] + 1)),
     "hospitals.csv, field 'beds'"),
])
def test_bad_hospitals_give_one_line(tmp_path, edit, where):
    scen = _copy_zhangye(tmp_path)
    path = scen / "beds" / "hospitals.csv"
    edit(pd.read_csv(path, dtype=str, keep_default_na=False)
         .astype({"beds": int})).to_csv(path, index=False)
    with pytest.raises(ScenarioError) as err:
        plan_beds(scen, "beds/beds.yaml")
    text = str(err.value)
    assert text.startswith(where) and "\n" not in text


def test_bad_yaml_and_infeasible_plan(tmp_path):
    scen = _copy_zhangye(tmp_path)
    y = scen / "beds" / "beds.yaml"
    good = y.read_text(encoding="utf-8")
    y.write_text(good + "colour: red\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^beds.yaml, field 'colour': unknown key"):
        plan_beds(scen, "beds/beds.yaml")
    # Floors at 95 %: 甘州区 must lose 982 of 5542 beds (18 %): impossible → infeasible, reported.
    y.write_text(good.replace("min_share: 0.5", "min_share: 0.95"), encoding="utf-8")
    r = plan_beds(scen, "beds/beds.yaml")
    assert r.summary["status"] == INFEASIBLE and r.violations and "beds.csv" not in r.files
