"""Hospital beds: the need formula, Heze's rule, Zhangye's figures and the reduction model.

Every number asserted here is worked out by hand in the comment above it.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from dingdian.errors import ScenarioError
from dingdian.models.beds import (
    BedProblem,
    Hospital,
    allocate_new_beds,
    build_bed_model,
    certificate,
    differing,
    fund_coefficient,
    heze_branch,
    implied_population,
    needed_beds_per_thousand,
    optimum,
    patient_coefficient,
    plan_frame,
    population_share,
    ratio_split,
    settle_conversions,
    tie_break,
)
from dingdian.planners import beds as beds_planner
from dingdian.planners.beds import T1, T4, T5, TH, plan_beds
from dingdian.planners.beds_check import check_zhangye
from dingdian.result import INFEASIBLE, NO_SOLUTION, OPTIMAL
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


# --------------------------------------------------------------------------- tie-break (8)
def _tie() -> BedProblem:
    # County A: h1 (L1, 400 ‰, may convert), h2 (L2, 700 ‰), h3 (L1, 400 ‰), 10 beds each,
    # floors 5. L1 20 → 17 and L2 10 → 8, so A 30 → 25 over 2025–2026, at most ⌈5/2⌉ = 3 a
    # year; at most Q_A = 1 cut bed becomes a nursing bed.
    hs = (Hospital("h1", "A", "L1", 10, 400, 5, nursing_allowed=True),
          Hospital("h2", "A", "L2", 10, 700, 5), Hospital("h3", "A", "L1", 10, 400, 5))
    return BedProblem(hs, 2024, (2025, 2026), {"A": 25}, {"L1": 17, "L2": 8},
                      nursing_capacity={"A": 1})


def _lexicographic(problem: BedProblem, backend: str):
    model = build_bed_model(problem)
    status, _objective, _bound, values, _msg = run_backend(model, backend, None)
    assert status == OPTIMAL
    z_star = optimum(model, values)
    status, tau, _bound, found, _msg = run_backend(tie_break(model, z_star), backend, None)
    assert status == OPTIMAL
    return model, z_star, round(tau), settle_conversions(model, found)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tie_break_by_hand(backend):
    # (7): L1 loses 3 beds at 400 (h1 and h3 alike), L2 2 at 700, the peak is 3 and one cut
    # bed of h1 converts: 1200 + 1400 + 3 − 1 = 2602 — for every split of L1's 3 between h1
    # (at least 1, for the conversion) and h3 and every schedule within 3 a year: they tie.
    # (8): ρ by (occupancy, id): h1 1, h3 2, h2 3; μ: 2025 weighs 2, 2026 1. h1 takes all 3
    # of L1 (the lower rank at the same cost). North-west corner with U = 3 a year and 6 − 5 = 1
    # unused: 2025 = unused 1 + h1 2; 2026 = h1 1 + h2 2.
    # τ = 1·(2·2 + 1·1) + 3·(1·2) = 11. Against it: h1 3 in 2025, h2 2 in 2026 gives
    # 1·2·3 + 3·1·2 = 12; h1 1 + h2 2 in 2025, h1 2 in 2026 gives 1·(2 + 2) + 3·2·2 = 16;
    # h1 2 + h3 1 at best 1·2·2 + 2·1·1 + 3·1·2 = 12. A separable weight ρ_h + μ_t would tie
    # the plan with 2025 = h2 2, 2026 = h1 3 (same yearly cuts): (3+2)·2 + (1+1)·3 = 16
    # against (1+2)·2 + (1+1)·1 + (3+1)·2 = 16; the product gives it 3·2·2 + 1·1·3 = 15.
    # (8c): min(Q_A = 1, h1's 3 cuts) = 1 conversion, on the first cut bed: h1 in 2025.
    model, z_star, tau, values = _lexicographic(_tie(), backend)
    assert z_star == 2602 and tau == 11
    frame = plan_frame(model, values).set_index(["hospital_id", "year"])
    assert frame["cut"].to_dict() == {
        ("h1", 2024): 0, ("h1", 2025): 2, ("h1", 2026): 1, ("h2", 2024): 0, ("h2", 2025): 0,
        ("h2", 2026): 2, ("h3", 2024): 0, ("h3", 2025): 0, ("h3", 2026): 0}
    assert frame.loc[frame["to_nursing"] > 0, "to_nursing"].to_dict() == {("h1", 2025): 1}
    assert optimum(model, values) == z_star  # the same optimum: (7) at 2602
    # (9): no other plan keeps 2602 and 11 (δ* = 0); at τ ≤ 12 the split h1 2 + h3 1 is in,
    # so the totals of h1 and h3 may differ (δ* = 2; h2's are fixed by L2).
    for bound, moved in ((11, 0), (12, 2)):
        status, obj, *_ = run_backend(certificate(model, values, z_star, bound), backend, None)
        assert status == OPTIMAL and -round(obj) == moved


@pytest.mark.parametrize("backend", BACKENDS)
def test_tie_break_infeasible_twin(backend):
    # (8) holds (7) at z*: one below the optimum (2601) no plan is left; nor for (9) one below
    # τ* (10), as no plan of (7)'s optimum does better than (8)'s 11.
    model, z_star, tau, values = _lexicographic(_tie(), backend)
    assert run_backend(tie_break(model, z_star - 1), backend, None)[0] == INFEASIBLE
    assert run_backend(certificate(model, values, z_star, tau - 1), backend, None)[0] == INFEASIBLE


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


#: the nursing plan's conversions in the shipped run (converted_by_county of plan_nursing,
#: 四(三)2): they bind, so which cut beds convert is a choice
LINKED = {"甘州区": 265, "临泽县": 0, "高台县": 0, "山丹县": 0, "民乐县": 126, "肃南县": 0}


@cache
def _zhangye(backend: str, linked: bool):
    return plan_beds(ZHANGYE, "beds/beds.yaml", backend,
                     nursing_capacity=LINKED if linked else None)


@pytest.mark.parametrize("linked", [False, True], ids=["file", "linked"])
def test_zhangye_same_plan_on_every_backend(linked):
    # (8): every backend writes the same beds.csv byte for byte (with (7) alone 178 of its 749
    # rows differed when linked). The optimum: with the file's capacities (none) every cut bed
    # of a conversion-allowed hospital converts, 590; linked only 265 + 126 = 391, so (7c)
    # loses 199: 1,325,330 + 199 = 1,325,529.
    texts = {}
    for backend in BACKENDS:
        r = _zhangye(backend, linked)
        s = r.summary
        assert s["status"] == OPTIMAL and r.violations == []
        assert s["tie_break"]["status"] == OPTIMAL and s["cut_short"] is False
        assert s["objective"] == (1_325_529 if linked else 1_325_330)
        assert s["to_nursing"] == (391 if linked else 590)
        texts[backend] = r.files["beds.csv"].to_csv(index=False).encode("utf-8")
    assert texts["cbc"] == texts["highs"] and texts["cpsat"] == texts["highs"]
    # (ii) north-west corner: a county that loses R cuts U = ⌈R/6⌉ a year and leaves the
    # 6U − R unused in 2025: 甘州区 982 → 164 (2 unused), 临泽县 98 → 17 (4), 山丹县 202 → 34 (2),
    # 民乐县 529 → 89 (5), 肃南县 115 → 20 (5); 高台县 grows by 20, 4 a year from 2025 on.
    first = {"甘州区": 162, "临泽县": 13, "高台县": 0, "山丹县": 32, "民乐县": 84, "肃南县": 15}
    for county, years in _zhangye("highs", linked).summary["yearly_cut"].items():
        cap = 0 if county == "高台县" else first[county] + {"甘州区": 2, "临泽县": 4, "山丹县": 2,
                                                             "民乐县": 5, "肃南县": 5}[county]
        assert list(years.values()) == [first[county]] + [cap] * 5
    beds = _zhangye("highs", linked).files["beds.csv"]
    added = beds[beds["county"] == "高台县"].groupby("year")["added"].sum()
    assert added.loc[2025:].tolist() == [4, 4, 4, 4, 4, 0]


def test_zhangye_plan_is_unique():
    # (9) on the linked plan: no other plan is as good on (7) and on (8) (δ* = 0). Without
    # (8) it is not: (7) alone lets four totals move (甘州区 ZY-H-002 three-level 798 ‰ and
    # ZY-H-016 one-level 519 ‰ against 民乐县 ZY-H-080 929 ‰ and ZY-H-085 650 ‰: 798 − 519 =
    # 929 − 650 = 279 ‰ a bed), which is what the backends used to disagree on.
    r = plan_beds(ZHANGYE, "beds/beds.yaml", "highs", nursing_capacity=LINKED, certify=True)
    assert r.summary["tie_break"]["unique"] is True and r.summary["tie_break"]["could_differ"] == []
    cfg, (tables, _census, hospitals) = beds_planner.read_inputs(ZHANGYE, "beds/beds.yaml")
    cfg = cfg.model_copy(update={"nursing_capacity": LINKED})
    model = build_bed_model(beds_planner.bed_problem(cfg, tables, hospitals))
    _status, _obj, _bound, values, _msg = run_backend(model, "highs", None)
    status, _obj, _b, found, _m = run_backend(
        certificate(model, values, optimum(model, values), 10**9), "highs", None)
    assert status == OPTIMAL and differing(model, found) == [
        "cut ZY-H-002", "cut ZY-H-016", "cut ZY-H-080", "cut ZY-H-085"]


def test_zhangye_tie_break_within_the_time_limit(monkeypatch):
    # (L2) gets the time left of the run's limit; with none left it is not run: the plan of
    # (L1) is written (optimal, checked), and the run says it was cut short.
    r = plan_beds(ZHANGYE, "beds/beds.yaml", "highs", time_limit=60)
    tie = r.summary["tie_break"]
    assert tie["status"] == OPTIMAL and 0 < tie["time_limit"] <= 60 and not r.summary["cut_short"]
    monkeypatch.setattr(beds_planner, "time_left", lambda _deadline: 0.0)
    r = plan_beds(ZHANGYE, "beds/beds.yaml", "highs", time_limit=60)
    tie = r.summary["tie_break"]
    assert tie["status"] == NO_SOLUTION and tie["cut_short"] and r.summary["cut_short"]
    assert r.summary["status"] == OPTIMAL and r.violations == [] and "beds.csv" in r.files


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
