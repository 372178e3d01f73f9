"""The Heze switches of issue 13 (part 5), each on a tiny instance worked out by hand, on every
backend, with a twin that is infeasible under one reading and feasible under the other:

* ``rules.near_timing`` (二(二) 周边800米…有同类型定点医药机构的，原则上不再新增定点): ``start``
  (default) — a neighbour designated when the year begins, or admitted in it, blocks an
  admission that year; ``end`` — a neighbour designated at the end of the year does;
* ``rules.near_type`` (同类型): ``kind`` (default, clinic vs pharmacy) or ``category``;
* ``rules.bed_pause_outpatient`` (二(一)1 暂停全市当年度医疗机构新增医保定点): off by default;
  on, a year the needed-beds rule pauses admits no outpatient clinic either — (17);
* the needed-beds rule itself is evaluated every year from that year's figures.

The 800 m lists come from :func:`dingdian.scenario.problem.near_pairs` on a tiny frame of
points, as the loader builds them. After each solve the rule is recomputed from the plan in
plain pandas (:func:`near_broken`, :func:`paused_clinics`), independently of
:mod:`dingdian.check.verify` (which :func:`solve_verified` runs as well).

Cost reminders (default weights, tests/model_cases.py): exit = score + 5, admission =
5 − review, 3 per change in the busiest year of a county/kind, −10 · population per covered
gain-cell year.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from model_cases import (
    BACKENDS,
    CL,
    OPTIMAL,
    PH,
    A,
    Cover,
    Facility,
    Target,
    admissions,
    app,
    assert_infeasible,
    county_quotas,
    exits,
    fac,
    make_problem,
    solve_verified,
)

from dingdian.errors import ScenarioError
from dingdian.models.data import BedPause
from dingdian.models.site import build_site_model
from dingdian.planners.beds import TH, plan_beds
from dingdian.scenario.beds import bed_pause_years
from dingdian.scenario.problem import near_pairs

ROOT = Path(__file__).resolve().parents[1]
HEZE = ROOT / "scenarios" / "heze"
KEY = "二(三)2 重点建设项目"


def sites(*rows) -> pd.DataFrame:
    """``(id, kind, category, status, x, y)`` rows as the loader's facility frame."""
    return pd.DataFrame(rows, columns=["facility_id", "kind", "category", "status", "x", "y"]) \
        .assign(exempt_rule="")


def with_near(problem, frame: pd.DataFrame, *, by: str = "kind", timing: str = "start"):
    return dataclasses.replace(problem, near=near_pairs(frame, 800.0, by), near_timing=timing)


def near_broken(result, frame: pd.DataFrame, *, by: str, timing: str) -> list[str]:
    """The 800 m rule recomputed from the plan: each applicant admitted in ``t`` while a
    same-type facility within 800 m is designated at the start of ``t`` or admitted in it
    (``start``), or designated at the end of ``t`` (``end``)."""
    d = result.designated
    years = list(d.columns)
    xy = frame.set_index("facility_id")[["x", "y"]]
    kind = frame.set_index("facility_id")[by]
    out = []
    for fid, t in admissions(result).items():
        j = years.index(t)
        for g in d.index:
            if g == fid or kind[g] != kind[fid]:
                continue
            if math.dist(xy.loc[fid], xy.loc[g]) > 800:
                continue
            held = d.loc[g, years[j]] or (timing == "start" and d.loc[g, years[j - 1]])
            if held:
                out.append(f"{fid} admitted in {t} near {g}")
    return out


# ----------------------------------------------------------------- near_timing: start | end


def _swap(timing: str):
    # E1 (score 40) existing at (0, 0); A1 (review 95) 300 m away, the only facility reaching a
    # gain cell of population 1 (−10 per covered year); 1 admission and 1 exit a year.
    frame = sites(("E1", PH, "chain_pharmacy", "existing", 0, 0),
                  ("A1", PH, "chain_pharmacy", "applicant", 300, 0))
    p = make_problem([fac("E1", 40), app("A1", 95)],
                     quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}),
                     cover=[Cover("g1", A, PH, 1, "gain", ("A1",))])
    return with_near(p, frame, timing=timing), frame


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("timing", ["start", "end"])
def test_near_timing_swap_in_the_exit_year(backend, timing, tmp_path):
    # end: E1 out 2025 (40+5), A1 in 2025 (5−95), two changes in 2025 (3·2), the cell covered
    #   2025 and 2026 (−20): 45 − 90 + 6 − 20 = −59 — the same-year swap the issue reports.
    #   (E1 out 2025, A1 in 2026: 45 − 90 + 3 − 10 = −52; nothing: 0.)
    # start: E1 is designated when 2025 begins, so A1 waits for 2026: −52.
    p, frame = _swap(timing)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == {"end": -59, "start": -52}[timing]
    assert exits(r) == {"E1": 2025}
    assert admissions(r) == {"A1": {"end": 2025, "start": 2026}[timing]}
    assert near_broken(r, frame, by="kind", timing=timing) == []
    if timing == "end":  # the plan the default reading refuses
        assert near_broken(r, frame, by="kind", timing="start") == ["A1 admitted in 2025 near E1"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_timing_twin(backend, tmp_path):
    # E1 must exit in 2025 (exact exit figure 1) and the 2025 count must stay 1 (target):
    # only A1 admitted in 2025 can hold it. end: feasible, 45 − 90 + 6 − 20 = −59.
    # start: A1 cannot come in while E1 was designated at the start of 2025 — infeasible,
    # the target 1 short, explained by the 800 m rule.
    p, _frame = _swap("end")
    p = dataclasses.replace(p, targets=(Target(A, PH, 2025, 1),),
                            options=dataclasses.replace(p.options, exit_mode="exact"),
                            quotas=county_quotas({2025: (1, 1), 2026: (1, 0)}))
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -59
    assert_infeasible(dataclasses.replace(p, near_timing="start"), backend, tmp_path,
                      "the 800 m rule (二(二))", "1 short")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("timing", ["start", "end"])
def test_two_applicants_near_each_other_never_in_the_same_year(backend, timing, tmp_path):
    # A1 (90) and A2 (80) 500 m apart, 2 admissions a year allowed, 2025–2026.
    #   both in 2025: −85 − 75 + 3·2 = −154, forbidden under both timings (one assessment round);
    #   A1 2025, A2 2026 (or the reverse): A1 designated at the start (and end) of 2026 blocks
    #   A2. So one comes in: A1, −85 + 3 = −82.
    frame = sites(("A1", PH, "single_pharmacy", "applicant", 0, 0),
                  ("A2", PH, "single_pharmacy", "applicant", 500, 0))
    p = make_problem([app("A1", 90), app("A2", 80)],
                     quotas=county_quotas({2025: (2, 0), 2026: (2, 0)}))
    r = solve_verified(with_near(p, frame, timing=timing), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -82
    assert set(admissions(r)) == {"A1"}
    assert near_broken(r, frame, by="kind", timing="start") == []


# --------------------------------------------------------------- near_type: kind | category


def _types(by: str, target: int | None = None):
    # E1 a protected village clinic (村卫生室, cannot exit) at (0, 0); A1 a 诊所 applicant
    # (review 90) 300 m away; A2 a 诊所 applicant (70) 5 km away; P1 a pharmacy 100 m from
    # A1 (another kind: never counts); 1 clinic admission a year.
    frame = sites(("E1", CL, "village_clinic", "existing", 0, 0),
                  ("A1", CL, "clinic", "applicant", 300, 0),
                  ("A2", CL, "clinic", "applicant", 5000, 0),
                  ("P1", PH, "chain_pharmacy", "existing", 400, 0))
    p = make_problem([fac("E1", 60, kind=CL, protected=True), app("A1", 90, kind=CL),
                      app("A2", 70, kind=CL), fac("P1", 70)],
                     quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}, kind=CL),
                     targets=() if target is None else (Target(A, CL, 2026, target),))
    return with_near(p, frame, by=by), frame


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("by", ["kind", "category"])
def test_near_type(backend, by, tmp_path):
    # kind: the village clinic is a 定点医疗机构 like A1, so A1 is barred for good: A2 alone,
    #   (5 − 70) + 3 = −62.
    # category: a 村卫生室 is not a 诊所: A1 and A2 one a year, (5 − 90) + (5 − 70) + 3 = −147.
    p, frame = _types(by)
    assert {n.facility: n.others for n in p.near} == ({"A1": ("E1",)} if by == "kind" else {})
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == {"kind": -62, "category": -147}[by]
    assert set(admissions(r)) == ({"A2"} if by == "kind" else {"A1", "A2"})
    assert near_broken(r, frame, by=by, timing="start") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_type_twin(backend, tmp_path):
    # The 2026 clinic count must be 3 (E1, A1, A2): feasible by category (−147), infeasible by
    # kind, A1 barred for good by the village clinic that never exits.
    p, _ = _types("category", target=3)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -147
    assert_infeasible(_types("kind", target=3)[0], backend, tmp_path, "the 2026 target 3",
                      "the 800 m rule (二(二)", "bars 1 of the 2 applicants for good", "1 short")


# -------------------------------------------------------------- bed_pause_outpatient (17)


def _pause(paused: bool, target: int | None = None):
    # Clinics: A1 (90), A2 (60) from 2025, 1 admission a year; X1 exempt (二(三)2, review 50)
    # applying in 2025; pharmacy P1 (80), 1 admission in 2025. Pause year: 2025.
    p = make_problem([app("A1", 90, kind=CL), app("A2", 60, kind=CL), app("P1", 80),
                      Facility("X1", CL, A, existing=False, score=50, available_from=2025,
                               exempt=KEY)],
                     quotas=(*county_quotas({2025: (1, 0), 2026: (1, 0)}, kind=CL),
                             *county_quotas({2025: (1, 0), 2026: (0, 0)})),
                     targets=() if target is None else (Target(A, CL, 2026, target),))
    return dataclasses.replace(p, bed_pause=(BedPause(2025, "二(一)1"),) if paused else ())


def paused_clinics(result, problem) -> list[str]:
    """Clinic admissions subject to the plan in a paused year, from the plan."""
    kind = {f.id: f.kind for f in problem.facilities}
    exempt = {f.id for f in problem.facilities if f.exempt}
    return [f for f, t in admissions(result).items()
            if t in problem.paused_years and kind[f] == CL and f not in exempt]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("paused", [False, True])
def test_bed_pause_on_outpatient_clinics(backend, paused, tmp_path):
    # off: X1 −45 in 2025 (forced), A1 and A2 one a year (−85, −55), the busiest clinic year
    #   2 changes (6); P1 −75 + 3: −179 − 72 = −251.
    # on (2025 paused): no plain clinic admission in 2025, so one in 2026, A1 (−85); X1 still
    #   comes in in 2025 (exempt) and P1 too (a pharmacy is not a 医疗机构): −45 − 85 + 3 − 72
    #   = −199.
    p = _pause(paused)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == (-199 if paused else -251)
    got = admissions(r)
    assert got["X1"] == 2025 and got["P1"] == 2025
    if paused:
        assert got["A1"] == 2026 and "A2" not in got
    else:
        assert {got["A1"], got["A2"]} == {2025, 2026}
    assert paused_clinics(r, p) == []
    row = build_site_model(p).lp.get_constraint_by_name("c17_pause_2025")
    assert (row is not None) == paused


@pytest.mark.parametrize("backend", BACKENDS)
def test_bed_pause_twin(backend, tmp_path):
    # The 2026 clinic count 3 (X1, A1, A2) needs both plain admissions: one a year, so the
    # 2025 pause makes it infeasible, 1 short, the pause named.
    r = solve_verified(_pause(False, target=3), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -251
    assert_infeasible(_pause(True, target=3), backend, tmp_path, "the 2026 target 3",
                      "the needed-beds pause on outpatient clinics (二(一)1) in 2025", "1 short")


# ----------------------------------------------------------- the needed beds, every year


def _need(months: float) -> float:
    # Σ rate × insured = 1,229,500 (tests/test_beds.py); × 8.6 × 1000 / (0.80 × 365 ×
    # 8,100,000) × patient coef 1,055,000 / 1,120,000 × fund coef months / 6.
    return 1_229_500 * 8.6 * 1000 / (0.8 * 365 * 8_100_000) * (1_055_000 / 1_120_000) * months / 6


def test_needed_beds_every_year_from_its_own_figures():
    r = plan_beds(HEZE, "beds/beds.yaml")
    fund = pd.read_csv(HEZE / "fund.csv")
    months = dict(zip(fund["year"], fund["months_payable"], strict=True))
    assert set(fund["months_required"]) == {6.0}  # the by_year figures are fund.csv's
    by_year = r.summary["by_year"]
    assert list(by_year) == ["2026", "2027", "2028", "2029", "2030"]
    for year, f in by_year.items():
        assert f["computed"] == pytest.approx(_need(months[int(year)]), rel=1e-12)
        assert f["fund_months"]["payable"] == months[int(year)]
    # 4.632, 3.790, 4.281, 4.422, 4.562: all below 7.5 and 6.355 → every year pauses
    assert r.summary["paused_years"] == [2026, 2027, 2028, 2029, 2030] and r.violations == []
    beds = r.files["beds.csv"]
    assert len(beds) == 9 * 5 and (beds["paused"] == 1).all() and beds["added"].sum() == 0
    assert set(r.files[TH]["年份"]) == {2026, 2027, 2028, 2029, 2030}
    assert r.summary["figures"]["year"] == 2026  # as before: the figures of ``year``


def test_a_year_with_its_own_figures_takes_its_own_branch(tmp_path):
    # 2028's occupancy 0.45 instead of 0.80: 4.281 × 0.80 / 0.45 = 7.61 > 7.5 and > 6.355,
    # so 2028 allocates beds while the other years pause; the pause years are the loader's too.
    root = tmp_path / "heze"
    shutil.copytree(HEZE / "beds", root / "beds")
    y = root / "beds" / "beds.yaml"
    cfg = yaml.safe_load(y.read_text(encoding="utf-8"))
    cfg["by_year"][2028]["occupancy"] = 0.45
    y.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    r = plan_beds(root, "beds/beds.yaml")
    assert r.violations == []
    assert r.summary["branches"]["2028"] == "allocate"
    f = r.summary["by_year"]["2028"]
    assert f["computed"] == pytest.approx(_need(6.1) * 0.8 / 0.45, rel=1e-12)
    assert r.summary["paused_years"] == [2026, 2027, 2029, 2030]
    beds = r.files["beds.csv"]
    per_year = beds.groupby("year")[["added", "paused"]].sum()
    assert per_year.loc[2028, "added"] == f["new_beds"] > 0 and per_year.loc[2028, "paused"] == 0
    assert (per_year.drop(2028)["added"] == 0).all()
    pause, notes = bed_pause_years(root, "beds/beds.yaml", range(2026, 2031))
    assert [b.year for b in pause] == [2026, 2027, 2029, 2030] and notes == ()
    assert bed_pause_years(root, "beds/beds.yaml", [2031])[1] != ()  # no figures: a note


def test_by_year_must_name_an_evaluation_year(tmp_path):
    root = tmp_path / "heze"
    shutil.copytree(HEZE / "beds", root / "beds")
    y = root / "beds" / "beds.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("  2030: {fund", "  2031: {fund"),
                 encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^beds.yaml.*2031 is not one of the years"):
        plan_beds(root, "beds/beds.yaml")


def test_the_scenario_switches(tmp_path):
    from dingdian.scenario.loader import load_scenario

    def variant(rules: dict):
        path = tmp_path / f"v{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump({"base": str(HEZE / "scenario.yaml"), "name": "v",
                                        "rules": rules}, allow_unicode=True), encoding="utf-8")
        return load_scenario(path).problem

    shipped = variant({})
    assert shipped.near_timing == "start" and shipped.bed_pause == ()
    on = variant({"bed_pause_outpatient": True, "near_timing": "end", "near_type": "category"})
    assert on.paused_years == (2026, 2027, 2028, 2029, 2030) and on.near_timing == "end"
    # by category fewer neighbours count: every category list is within the kind list
    kind = {n.facility: set(n.others) for n in shipped.near}
    assert all(set(n.others) <= kind[n.facility] for n in on.near) and len(on.near) < len(kind)
    with pytest.raises(ScenarioError, match="near_timing"):
        variant({"near_timing": "middle"})


def test_shipped_plan_obeys_the_start_reading():
    """The shipped Heze plan, recomputed from lon/lat: no applicant subject to the plan is
    admitted in a year that begins with a clinic or pharmacy (its kind) designated within 800 m
    or in which one is admitted — the 106 m admission of the issue is gone."""
    from dingdian.geometry import lonlat_to_xy
    from dingdian.run.backends import solve
    from dingdian.scenario.loader import load_scenario
    from dingdian.write.frames import plan_frame

    sc = load_scenario(HEZE / "scenario.yaml")
    r = solve(sc.problem, "highs", unique=False)
    assert r.status == OPTIMAL
    p = plan_frame(sc.facilities, r.designated)
    years = [c for c in p.columns if str(c).isdigit()]
    x, y = lonlat_to_xy(p["lon"].to_numpy(float), p["lat"].to_numpy(float), "EPSG:32650")
    d = p[years].to_numpy(int)
    checked = 0
    for i in np.flatnonzero(p["admitted_year"].notna().to_numpy() & (p["exempt_rule"] == "")):
        j = years.index(str(int(p["admitted_year"].iloc[i])))
        held = (d[:, j - 1] == 1) | (d[:, j] == 1)
        same = (p["kind"] == p["kind"].iloc[i]).to_numpy() & held
        same[i] = False
        assert np.hypot(x[same] - x[i], y[same] - y[i]).min() > 800 - 0.01, p.iloc[i].facility_id
        checked += 1
    assert checked > 100
