"""Long-term-care institutions (四(三)): the home-care covering model, the bed rule, Zhangye.

Hand instance used by the model tests (E = elderly per site, weights of ``dingdian.models.nursing``)::

    cell  elderly  candidates within reach
    A     60       s1, s2
    B     50       s2
    C     70       s2, s3
    D     40       —          (unreachable: reported, never infeasible)

    max_cover, E = 100, caps (1, 1) → at most 2 sites; objective −(|J|+1)·served + sites, |J| = 3
      {s2, s3}: s3 serves C (70), s2 serves A + B = 110 → capped at 100        → 170  ← best
      {s1, s2}: s1 serves A (60), s2 serves B + C = 120 → 100                  → 160
      {s1, s3}: A 60 + C 70                                                      → 130
      optimum −4·170 + 2 = −678; s2 is full (capacity binds: 110 reachable, 100 served);
      schedule (6): s2 (100) opens in 2025, s3 (70) in 2026 → 100 then 170 elderly served.
      With E = 110 the same two sites serve all 180 coverable: −4·180 + 2 = −718.
    min_sites, E = 100: every pair leaves a cell short ({s2,s3}: A+B = 110 > 100 on s2;
      {s1,s2}: B+C = 120 > 100 on s2; {s1,s3}: B unreachable), so 3 sites, objective 3;
      with caps (1, 1) (2 sites at most) the twin is infeasible.
    tie-break (8), distances s1–A 500 m, s2–A 100, s2–B 300, s2–C 200, s3–C 400: s2's 100
      may go to A (50–60) and B (the rest); A's are nearer, so A 60, B 40:
      60·100 + 40·300 + 70·400 = 46,000 elderly-metres, the one plan. Holding 171 served
      (one more than the optimum) is the infeasible twin.

Rounding (7), E = 2,000 (no disability limit), caps (1, 1)::

    X 3,000 (a, b), Z 1,800 (c, alone with it): best {a, c} = 3,800 served (−4·3,800 + 2);
      the LP relaxation without (7) opens b and c halfway: 2,000 + 1,000 + 900 = 3,900;
      (7) for X: w_Xa + w_Xb ≤ 1·(2,000 − 1,000) + 1,000·(y_a + y_b), relaxation = 3,800.
    twin, min_sites, caps (1, 1, 1): X 2,500 (a, b) and V 2,500 (c, d) need 2 sites each, 4 > 3;
      the relaxation without (7) is feasible (1.25 + 1.25 sites), with (7) it is not
      (2,500 ≤ 1,500 + 500·Y needs Y ≥ 2 per cell).
"""

from __future__ import annotations

import dataclasses
import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pulp
import pytest

from dingdian.errors import ScenarioError
from dingdian.models import nursing
from dingdian.models.nursing import (
    BedArea,
    BedRules,
    ElderlyCell,
    HomeCareProblem,
    HomeCareSite,
    build_home_care_model,
    check_beds,
    plan_institution_beds,
    read_solution,
    schedule,
    tie_break,
)
from dingdian.planners.nursing import TABLE, check_nursing, plan_nursing
from dingdian.result import INFEASIBLE, OPTIMAL
from dingdian.run.backends import BACKENDS, run_backend
from dingdian.scenario.nursing import read_nursing_config

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
NURSING = ZHANGYE / "nursing"

CELLS = (ElderlyCell("A", "甲县", 60, 0, ("s1", "s2")), ElderlyCell("B", "甲县", 50, 0, ("s2",)),
         ElderlyCell("C", "甲县", 70, 0, ("s2", "s3")), ElderlyCell("D", "甲县", 40, 0, ()))
SITES = tuple(HomeCareSite(s, "甲县") for s in ("s1", "s2", "s3"))


def tiny(**kw) -> HomeCareProblem:
    base = dict(cells=CELLS, sites=SITES, years=(2025, 2026), yearly_cap=(1, 1),
                elderly_per_site=100)
    return HomeCareProblem(**{**base, **kw})


def solve(problem: HomeCareProblem, backend: str = "highs"):
    model = build_home_care_model(problem)
    status, objective, _bound, values, _msg = run_backend(model, backend)
    return model, status, objective, values


# --------------------------------------------------------------------------- covering model
@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_max_cover_same_optimum_on_every_backend(backend):
    model, status, objective, values = solve(tiny(), backend)
    assert status == OPTIMAL and objective == pytest.approx(-678)
    opened, assign = read_solution(model, values)
    assert opened == {"s2": 2025, "s3": 2026}
    load = assign.groupby("site_id")["elderly"].sum()
    assert load.to_dict() == {"s2": 100, "s3": 70}  # s2 full: the capacity binds
    assert "D" not in set(assign["cell_id"])  # unreachable, yet the model is feasible
    assert (assign["year_from"] == assign["site_id"].map(opened)).all()


def test_capacity_binds_by_hand():
    assert solve(tiny(elderly_per_site=110))[2] == pytest.approx(-718)  # all 180 served
    # disabled rule (3): 1,000 elderly at 10 % severe disability, 80 disabled per site → 800
    # (X alone with s: w = min(1,000, E_X = 800)·y, no row)
    cell = ElderlyCell("X", "甲县", 1000, 1000, ("s",))
    problem = HomeCareProblem(cells=(cell,), sites=(HomeCareSite("s", "甲县"),), years=(2025,))
    model, status, objective, values = solve(problem)
    assert status == OPTIMAL and objective == pytest.approx(-2 * 800 + 1)
    assert read_solution(model, values)[1]["disabled"].sum() == pytest.approx(80)
    # (3) as a row: X (10 %) and Y (2 %) share s; 1,000·w_X + 200·w_Y ≤ 800,000 → Y 1,000, X 600
    two = (cell, ElderlyCell("Y", "甲县", 1000, 200, ("s",)))
    model, status, objective, values = solve(dataclasses.replace(problem, cells=two))
    assert model.lp.get_constraint_by_name("c3_disabled_j0") is not None
    assert status == OPTIMAL and objective == pytest.approx(-2 * 1600 + 1)
    assert read_solution(model, values)[1].set_index("cell_id")["elderly"].to_dict() == {
        "X": 600, "Y": 1000}  # 60 + 20 = 80 disabled
    twin = dataclasses.replace(problem, cells=two, mode="min_sites")  # all: 100 + 20 > 80
    assert solve(twin)[1] == INFEASIBLE


@pytest.mark.parametrize("backend", BACKENDS)
def test_min_sites_and_its_infeasible_twin(backend):
    _m, status, objective, _v = solve(tiny(mode="min_sites", yearly_cap=(2, 1)), backend)
    assert status == OPTIMAL and objective == pytest.approx(3)
    assert solve(tiny(mode="min_sites"), backend)[1] == INFEASIBLE  # caps allow 2 sites


def relaxation(problem: HomeCareProblem) -> tuple[str, float | None]:
    """Status and objective of the LP relaxation (every variable continuous), on HiGHS."""
    model = build_home_care_model(problem)
    for v in model.lp.variables():
        v.cat = pulp.LpContinuous
    return run_backend(model, "highs")[:2]


def rounding(cells, years=(2025, 2026), **kw) -> HomeCareProblem:
    sites = tuple(HomeCareSite(s, "甲县") for s in "abcd")
    return HomeCareProblem(cells=tuple(ElderlyCell(i, "甲县", e, 0, r) for i, e, r in cells),
                           sites=sites, years=years, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rounding_closes_the_relaxation_by_hand(backend, monkeypatch):
    problem = rounding([("X", 3000, ("a", "b")), ("Z", 1800, ("c",))], yearly_cap=(1, 1))
    model, status, objective, _v = solve(problem, backend)
    assert status == OPTIMAL and objective == pytest.approx(-5 * 3800 + 2)  # |J| + 1 = 5
    assert model.lp.get_constraint_by_name("c7_round_i0") is not None
    assert relaxation(problem) == (OPTIMAL, pytest.approx(-5 * 3800 + 2))
    twin = rounding([("X", 2500, ("a", "b")), ("V", 2500, ("c", "d"))], (2025, 2026, 2027),
                    yearly_cap=(1, 1, 1), mode="min_sites")
    assert solve(twin, backend)[1] == INFEASIBLE and relaxation(twin)[0] == INFEASIBLE
    monkeypatch.setattr(nursing, "define_rounding", lambda model: None)  # without (7)
    assert relaxation(problem) == (OPTIMAL, pytest.approx(-5 * 3900 + 2))
    assert relaxation(twin)[0] == OPTIMAL


@pytest.mark.parametrize("backend", BACKENDS)
def test_tie_break_walks_least_by_hand(backend):
    metres = {"A": (500, 100), "B": (300,), "C": (200, 400)}
    problem = tiny(cells=tuple(dataclasses.replace(c, distances=metres.get(c.id, ()))
                               for c in CELLS))
    model, status, _objective, values = solve(problem, backend)
    staged = tie_break(model, 170, 2)
    status, metres_walked, _b, values, _m = run_backend(staged, backend)
    assert status == OPTIMAL and metres_walked == pytest.approx(46_000)
    assign = read_solution(model, values)[1].set_index(["cell_id", "site_id"])["elderly"]
    assert assign.to_dict() == {("A", "s2"): 60, ("B", "s2"): 40, ("C", "s3"): 70}
    assert run_backend(tie_break(model, 171, 2), backend)[0] == INFEASIBLE  # the twin


def test_schedule_largest_catchment_first():
    loads = {"a": 5, "b": 9, "c": 9, "d": 1}
    assert schedule(loads, (2025, 2026, 2027), (2, 0, 2)) == {
        "b": 2025, "c": 2025, "a": 2027, "d": 2027}
    assert schedule(loads, (2025, 2026)) == dict.fromkeys(loads, 2025)  # no caps
    with pytest.raises(ValueError):
        schedule(loads, (2025, 2026), (1, 1))


# --------------------------------------------------------------------------- institution care
def test_bed_rules_by_hand():
    # city cap floor(20 % × 2,000) = 400, split 1,000 : 500 : 500 → 200 / 100 / 100
    areas = [BedArea("X", 1000, 150, 0.50), BedArea("Y", 500, 50, 0.80, 30),
             BedArea("Z", 500, 300, 0.60)]
    beds = plan_institution_beds(areas, BedRules(0.20, 0.60, 50)).set_index("county")
    assert beds["bed_cap"].tolist() == [200, 100, 100]
    assert beds.loc["X", ["planned_beds", "new_beds", "institutions"]].tolist() == [150, 0, 3]
    assert beds.loc["Y", ["planned_beds", "new_beds", "converted_beds", "institutions"]
                    ].tolist() == [100, 50, 30, 2]  # 60 % or more: grows to its cap
    assert beds.loc["Z", ["planned_beds", "new_beds"]].tolist() == [100, 0]  # above cap: cut
    assert check_beds(beds.reset_index(), BedRules(), 2000) == []
    bad = beds.reset_index()
    bad.loc[0, "planned_beds"] = 160  # X adds beds at 50 % occupancy
    assert any("occupancy 50%" in v for v in check_beds(bad, BedRules(), 2000))
    assert plan_institution_beds(areas, city_beneficiaries=3000)["bed_cap"].tolist() == [
        300, 150, 150]


# --------------------------------------------------------------------------- Zhangye
@cache
def zhangye(backend: str):
    return plan_nursing(ZHANGYE, "nursing/nursing.yaml", backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_zhangye_plan_solves_and_verifies(backend):
    r = zhangye(backend)
    s = r.summary
    assert s["status"] == OPTIMAL and s["gap"] < 1e-9 and r.violations == []
    assert s["objective"] == zhangye("highs").summary["objective"] == -57_884_050
    assert s["elderly_covered"] == 130_664  # the optimum before (7) and (8) too
    assert s["tie_break"]["status"] == OPTIMAL and s["cut_short"] is False
    for name, frame in r.files.items():  # (8): the same plan on every backend
        pd.testing.assert_frame_equal(frame, zhangye("highs").files[name])
    assert s["elderly_total"] == 202_850  # the city's real 60+ figure
    assert s["sites_total"] == 102 and set(s["sites_opened_by_year"].values()) == {17}
    assert s["beds"]["bed_cap"] == 1622  # floor(20 % × 202,850 × 4 %)
    table = r.files[TABLE]
    assert list(table.columns[:9]) == ["县区", "60岁以上人口", "覆盖老年人口", "覆盖率",
                                       "居家照护型机构数", "机构照护型床位数", "机构照护型机构数",
                                       "床位使用率", "是否新增床位"]
    low = table[table["床位使用率"] < 0.60]
    assert len(low) and (low["是否新增床位"] == "否").all()
    cells = r.files["nursing_cells.csv"]
    assert cells["elderly_covered"].sum() == s["elderly_covered"]


def test_residual_checks_catch_a_broken_plan():
    r = zhangye("highs")
    cfg = read_nursing_config(NURSING / "nursing.yaml")
    files = {k: v.copy() for k, v in r.files.items()}
    files["nursing_assignments.csv"].loc[0, "elderly"] += 5000
    sites = files["nursing.csv"]
    sites.loc[sites["site_id"] == sites["site_id"].iloc[0], "lon"] += 0.5
    years = tuple(range(2025, 2031))
    bad = check_nursing(files, cfg.home_care, (17,) * 6, years, "EPSG:32647", BedRules(), 8114)
    assert any("elderly >" in v for v in bad) and any("beyond the cell radius" in v for v in bad)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(NURSING, tmp_path / "n")
    return tmp_path / "n"


def test_zhangye_min_sites_and_too_small_cap(tmp_path):
    d = _copy(tmp_path)
    text = (d / "nursing.yaml").read_text(encoding="utf-8").replace(
        "mode: max_cover  ", "mode: min_sites  ")
    (d / "nursing.yaml").write_text(text.replace("yearly_cap: 17 ", "yearly_cap: 90 "), "utf-8")
    r = plan_nursing(ZHANGYE, str(d / "nursing.yaml"))
    assert r.summary["status"] == OPTIMAL and r.violations == []
    assert r.summary["elderly_covered"] == r.summary["elderly_reachable"] == 202_850
    (d / "nursing.yaml").write_text(text, "utf-8")  # 6 × 17 = 102 sites cannot serve everyone
    r = plan_nursing(ZHANGYE, str(d / "nursing.yaml"))
    assert r.summary["status"] == INFEASIBLE and r.files == {}


@pytest.mark.parametrize("file,column,row,value,expect", [
    # the row as Excel shows it: the heading is row 1
    ("candidates.csv", "lon", 4, "abc", "candidates.csv row 4, field 'lon': 'abc' is not a number"),
    ("candidates.csv", "lon", 6, "97.0", "candidates.csv row 6, field 'lon': point (97.0,"),
    ("elderly.csv", "population_60plus", 3, "-5", "elderly.csv row 3, field 'population_60plus'"),
    ("institution_beds.csv", "occupancy", 5, "1.5",
     "institution_beds.csv row 5, field 'occupancy': 1.5 is above 1.0"),
])
def test_bad_input_is_one_line(tmp_path, file, column, row, value, expect):
    d = _copy(tmp_path)
    frame = pd.read_csv(d / file, dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value
    frame.to_csv(d / file, index=False)
    with pytest.raises(ScenarioError) as err:
        plan_nursing(ZHANGYE, str(d / "nursing.yaml"))
    assert str(err.value).startswith(expect) and "\n" not in str(err.value)


def test_bad_yaml_key_is_one_line(tmp_path):
    d = _copy(tmp_path)
    text = (d / "nursing.yaml").read_text(encoding="utf-8")
    (d / "nursing.yaml").write_text(text.replace("  budget: null", "  budgett: 3"), "utf-8")
    with pytest.raises(ScenarioError, match=r"^nursing.yaml, field 'home_care.budgett': unknown key"):
        plan_nursing(ZHANGYE, str(d / "nursing.yaml"))
