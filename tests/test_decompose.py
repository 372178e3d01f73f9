"""Decomposition (:mod:`dingdian.run.decompose`): independent counties solved apart give the optimum.

Tiny instances worked out by hand (default weights, see ``tests/model_cases.py``: an exit of a
facility scored σ costs σ + 5, the busiest year's changes of a county and kind 3 each):

Two independent counties, pharmacies only, years 2025–2026, at most 2 exits a year:

* 甲县: p1 (60), p2 (90); target 1 in 2025 and 2026. One exit, in 2025: p1 (65) rather than
  p2 (95), busiest year 1 change (3): **68**.
* 乙县: q1 (70), q2 (50), q3 (85); target 1 in 2025 and 2026. Two exits in 2025: the cheapest
  pair q2 (55) + q1 (75) = 130, busiest year 2 changes (6): **136**.

Optimum 68 + 136 = **204**; exits p1, q1, q2 in 2025; a unique plan. The decomposed solve (two
parts) returns the same plan and the same objective and terms, on every backend.

The coupled twin adds a keep cell in 甲县 reached by p1 (甲县) and q2 (乙县) only: the cell
spans both counties, so they are one component. The plan above leaves it uncovered. Keeping p1
instead (exit p2: 95 + 3 = 98, +30) beats keeping q2 (exit q1 and q3: 75 + 90 + 6 = 171, +35),
so the optimum is 98 + 136 = **234**: exits p2, q1, q2 in 2025. Split by county anyway, the
cell's row would name a facility of the other part: the split refuses (ValueError).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from model_cases import (
    BACKENDS,
    INFEASIBLE,
    OPTIMAL,
    PH,
    Cover,
    Crowd,
    Target,
    app,
    county_quotas,
    exits,
    fac,
    make_problem,
    plan_frame,
)

from dingdian.check.verify import check_plan, residuals
from dingdian.models.data import GateYear, Near
from dingdian.models.tiebreak import tie_break_ranks
from dingdian.run.backends import solve
from dingdian.run.decompose import components, merge, solve_decomposed, solve_parts, split
from dingdian.run.engine import EngineError, run_all
from dingdian.scenario.loader import load_scenario
from dingdian.write.frames import plan_frame as written_plan

JIA, YI = "甲县", "乙县"


def two_counties(*, coupled: bool = False, **kw):
    facilities = [fac("p1", 60, county=JIA), fac("p2", 90, county=JIA),
                  fac("q1", 70, county=YI), fac("q2", 50, county=YI), fac("q3", 85, county=YI)]
    targets = [Target(c, PH, y, 1) for c in (JIA, YI) for y in (2025, 2026)]
    quotas = (county_quotas({2025: (0, 2), 2026: (0, 2)}, county=JIA)
              + county_quotas({2025: (0, 2), 2026: (0, 2)}, county=YI))
    cover = [Cover("k1", JIA, PH, 100, "keep", ("p1", "q2"))] if coupled else []
    return make_problem(facilities, targets=targets, quotas=quotas, cover=cover, **kw)


def assert_plan_holds(result, problem):
    """The merged plan, recomputed in plain pandas against the whole problem."""
    plan = plan_frame(result, problem)
    assert residuals(plan, problem) == []
    # every county reaches its target in every year, from the plan alone
    counts = plan.groupby("county")[["2025", "2026"]].sum()
    for t in problem.targets:
        assert counts.loc[t.county, str(t.year)] == t.count


# --------------------------------------------------------------------------- coupling graph
def test_independent_counties_are_two_components_and_split_keeps_every_row():
    p = two_counties()
    assert components(p) == [(JIA,), (YI,)] or components(p) == [(YI,), (JIA,)]
    parts = split(p)
    assert sorted(len(s.facilities) for s in parts) == [2, 3]
    assert sum(len(s.targets) for s in parts) == len(p.targets)
    assert sum(len(s.quotas) for s in parts) == len(p.quotas)
    for s in parts:
        (county,) = {f.county for f in s.facilities}
        assert {t.county for t in s.targets} == {county}
        assert {q.area for q in s.quotas} == {county}


def test_parts_carry_the_whole_problems_tie_break_ranks():
    """Ranked within 乙县 alone, q3 (85) would be 1st; in the whole problem p2 (90) is 1st and
    q3 2nd: each part keeps the whole problem's ranks, so its tie-break (L2) weighs its
    facilities as the monolithic solve does."""
    p = two_counties()
    whole = tie_break_ranks(p)
    assert whole == {"p2": 1, "q3": 2, "q1": 3, "p1": 4, "q2": 5}
    for part in split(p):
        assert tie_break_ranks(part) == {f.id: whole[f.id] for f in part.facilities}
    yi = next(part for part in split(p) if part.facilities[0].county == YI)
    assert tie_break_ranks(dataclasses.replace(yi, ranks=()))["q3"] == 1


@pytest.mark.parametrize("rule", ["cover", "crowd", "near", "move"])
def test_rows_that_span_two_counties_couple_them(rule):
    base = two_counties()
    extra: dict = {}
    facilities = base.facilities
    if rule == "cover":
        extra["cover"] = (Cover("k1", JIA, PH, 100, "keep", ("p1", "q2")),)
    elif rule == "crowd":
        extra["crowd"] = (Crowd("c1", PH, ("p2", "q3")),)
    elif rule == "near":
        facilities = (*facilities, app("n1", 80, county=JIA))
        extra["near"] = (Near("n1", ("q1",)),)
    else:  # an applicant row in 甲县 takes over the address of q1 in 乙县
        facilities = (*facilities, dataclasses.replace(app("n1", 80, county=JIA),
                                                       moves_from="q1"))
    p = dataclasses.replace(base, facilities=facilities, **extra)
    assert components(p) == [tuple(sorted((JIA, YI)))]
    assert len(split(p)) == 1 and split(p)[0].facilities == p.facilities


def test_the_fund_gate_does_not_couple():
    p = dataclasses.replace(two_counties(), gate=(GateYear(2025, "deficit"),))
    parts = split(p)
    assert len(parts) == 2 and all(s.gate == p.gate for s in parts)


def test_a_county_without_facilities_joins_the_first_part():
    p = two_counties()
    p = dataclasses.replace(p, targets=(*p.targets, Target("丙县", PH, 2026, 0)))
    groups = components(p)
    assert len(groups) == 2 and "丙县" in groups[0]
    assert sum(len(s.targets) for s in split(p, groups)) == len(p.targets)


def test_forcing_a_coupled_problem_apart_is_refused():
    """The violating twin: the coupled cell names a facility of the other county."""
    with pytest.raises(ValueError, match=f"cell k1 couples {'.*'.join(sorted((JIA, YI)))}"):
        split(two_counties(coupled=True), [(JIA,), (YI,)])


# --------------------------------------------------------------------------- solves
@pytest.mark.parametrize("backend", BACKENDS)
def test_decomposed_equals_monolithic_on_two_independent_counties(backend):
    p = two_counties()
    mono = solve(p, backend)
    dec = solve_parts(p, backend, workers=1)
    assert len(dec.parts) == 2
    for r in (mono, dec.result):
        assert r.status == OPTIMAL and r.objective == pytest.approx(204)
        assert exits(r) == {"p1": 2025, "q1": 2025, "q2": 2025}
    pd.testing.assert_frame_equal(dec.result.designated, mono.designated)
    assert dec.result.objective_terms == pytest.approx(mono.objective_terms)
    assert dec.result.bound == pytest.approx(204)
    by_county = {c: r.objective for c, r in dec.parts}
    assert by_county == {(JIA,): pytest.approx(68), (YI,): pytest.approx(136)}
    assert_plan_holds(dec.result, p)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cell_spanning_two_counties_is_solved_as_one_part(backend):
    p = two_counties(coupled=True)
    dec = solve_parts(p, backend, workers=1)
    assert len(dec.parts) == 1
    mono = solve(p, backend)
    for r in (mono, dec.result):
        assert r.status == OPTIMAL and r.objective == pytest.approx(234)
        assert exits(r) == {"p2": 2025, "q1": 2025, "q2": 2025}
    assert_plan_holds(dec.result, p)
    plan = plan_frame(dec.result, p).set_index("facility_id")
    assert plan.loc[["p1", "q2"], ["2025", "2026"]].sum().min() >= 1  # the cell stays covered


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_infeasible_part_makes_the_whole_infeasible(backend):
    """乙县 may exit only 1 pharmacy in 2025 but needs 2: infeasible; 甲县 alone is fine."""
    p = two_counties()
    quotas = tuple(dataclasses.replace(q, exit=1) if q.area == YI and q.year == 2025 else q
                   for q in p.quotas)
    p = dataclasses.replace(p, quotas=quotas)
    dec = solve_parts(p, backend, workers=1)
    statuses = {c: r.status for c, r in dec.parts}
    assert statuses == {(JIA,): OPTIMAL, (YI,): INFEASIBLE}
    r = dec.result
    assert r.status == INFEASIBLE == solve(p, backend).status
    assert r.designated is None and r.objective is None and not r.has_plan


def test_gate_split_per_part_forces_admissions_into_the_open_year():
    """Each county admits its applicant (review 90: 5 − 90 = −85, busiest year 1 change: +3)
    to reach the 2026 target 3; 2025 is closed, so both come in 2026: −82 each, −164."""
    facilities = [fac("p1", county=JIA), fac("p2", county=JIA), app("n1", 90, county=JIA),
                  fac("q1", county=YI), fac("q2", county=YI), app("m1", 90, county=YI)]
    targets = [Target(c, PH, 2026, 3) for c in (JIA, YI)]
    quotas = (county_quotas({2025: (1, 0), 2026: (1, 0)}, county=JIA)
              + county_quotas({2025: (1, 0), 2026: (1, 0)}, county=YI))
    p = dataclasses.replace(make_problem(facilities, targets=targets, quotas=quotas),
                            gate=(GateYear(2025, "deficit"),))
    r = solve_decomposed(p, "highs", workers=1)
    assert r.status == OPTIMAL and r.objective == pytest.approx(-164)
    d = r.designated
    assert d.loc[["n1", "m1"], 2025].tolist() == [0, 0]
    assert d.loc[["n1", "m1"], 2026].tolist() == [1, 1]
    # the twin: both years closed, no admission possible, the targets cannot be reached
    closed = dataclasses.replace(p, gate=(GateYear(2025), GateYear(2026)))
    assert solve_decomposed(closed, "highs", workers=1).status == INFEASIBLE


@pytest.mark.parametrize("backend", BACKENDS)
def test_certified_unique_in_every_part_is_unique_as_a_whole(backend):
    """With the certificate (L3) each part proves its plan the only optimal one, so the whole
    plan is unique; the stages add up (L1: 68 + 136 = 204; L3 distance 0)."""
    p = two_counties()
    dec = solve_parts(p, backend, workers=1, certify=True)
    assert all(r.unique is True for _, r in dec.parts)
    r = dec.result
    assert r.unique is True
    assert [st["stage"] for st in r.stages] == ["L1", "L2", "L3"]
    assert r.stages[0]["objective"] == pytest.approx(204)
    assert r.stages[2]["objective"] == pytest.approx(0)
    assert exits(r) == {"p1": 2025, "q1": 2025, "q2": 2025}


def test_merge_adds_the_parts():
    p = two_counties()
    parts = [solve(s, "highs") for s in split(p)]
    r = merge(p, parts)
    assert r.objective == sum(x.objective for x in parts)
    assert r.n_variables == sum(x.n_variables for x in parts)
    assert r.solve_seconds == pytest.approx(sum(x.solve_seconds for x in parts))
    assert list(r.designated.index) == [f.id for f in p.facilities]


# --------------------------------------------------------------------------- engines
def test_process_pool_returns_results_in_order():
    assert run_all(abs, [-3, 1, -2, 5], workers=2) == [3, 1, 2, 5]


def test_decomposed_on_a_process_pool_equals_in_process():
    p = two_counties()
    dec = solve_parts(p, "highs", workers=2)
    assert dec.engine == "process pool" and dec.workers == 2
    assert dec.result.objective == pytest.approx(204)
    assert exits(dec.result) == {"p1": 2025, "q1": 2025, "q2": 2025}
    summary = dec.summary()
    assert summary["parts"] == 2 and len(summary["components"]) == 2


def test_dask_local_cluster_runs_the_parts():
    pytest.importorskip("dask.distributed")
    p = two_counties()
    dec = solve_parts(p, "highs", scheduler="local", workers=2)
    assert dec.engine == "dask LocalCluster"
    assert dec.result.status == OPTIMAL and dec.result.objective == pytest.approx(204)
    assert exits(dec.result) == {"p1": 2025, "q1": 2025, "q2": 2025}


def test_unreachable_dask_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr("dingdian.run.engine.CONNECT_TIMEOUT", "1s")
    with pytest.raises(EngineError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_all(abs, [1], scheduler="tcp://127.0.0.1:9")


# --------------------------------------------------------------------------- the real scenario
ZHANGYE = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye" / "scenario.yaml"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_zhangye_decomposed_equals_monolithic(backend):
    """Four parts (临泽县+甘州区, 山丹县+民乐县, 肃南县, 高台县); the same optimum, −4,171,822
    (the defaults of issue 13), and, with the tie-break (L2, on by
    default), the same plan and the same role holders and special-zone overrides. (With ``unique=False`` 271 of
    2,067 facilities differ on HiGHS between equally good plans.)"""
    sc = load_scenario(ZHANGYE)
    mono = solve(sc.problem, backend)
    dec = solve_parts(sc.problem, backend, workers=2)
    assert [c for c, _ in dec.parts] == [("临泽县", "甘州区"), ("山丹县", "民乐县"), ("肃南县",),
                                         ("高台县",)]
    assert mono.status == dec.result.status == OPTIMAL
    assert dec.result.objective == pytest.approx(mono.objective) == pytest.approx(-4_171_822)
    assert dec.result.bound == pytest.approx(mono.objective)
    assert check_plan(written_plan(sc.facilities, dec.result.designated, dec.result.choices), sc) == []
    pd.testing.assert_frame_equal(dec.result.designated, mono.designated)
    assert dec.result.choices == mono.choices and mono.choices["roles"]


@pytest.mark.slow
def test_heze_decomposed_equals_monolithic():
    """Heze's rules across parts: the 800 m rule and moves couple counties (4 parts), the fund
    gate splits. The same optimum, −21,043,311 (the defaults of issue 13), the same plan, and it passes every check."""
    sc = load_scenario(ZHANGYE.parents[1] / "heze" / "scenario.yaml")
    mono = solve(sc.problem, "highs")
    dec = solve_parts(sc.problem, "highs", workers=2)
    assert len(dec.parts) == 4
    assert mono.status == dec.result.status == OPTIMAL
    assert dec.result.objective == pytest.approx(mono.objective) == pytest.approx(-21_043_311)
    assert check_plan(written_plan(sc.facilities, dec.result.designated, dec.result.choices), sc) == []
    pd.testing.assert_frame_equal(dec.result.designated, mono.designated)
