"""The start (L2) gets from (15)'s switches (solver/run/stages.py, held_switches): it speeds
HiGHS up and never changes the plan.

Hand-worked on test_model_allocation.py's exits-first instance (E1 40, E2 60, E3 70 existing,
A1 review 95; the 2026 target 2; at most 2 exits and 1 admission a year; planned exits 2 a
year). Its optimum (8), 29, puts A1's admission and the exits of E1 and E2 in one year, 2025
or 2026: two plans tie, with q_2025 = 1 or q_2026 = 1.

(L2): ranks A1 1, E3 2, E2 3, E1 4 (score, then id); mu 2 for 2025, 1 for 2026, so tau adds
rank · mu for each designation-year. In 2025: A1 3, E3 6, E1 and E2 gone: tau 9. In 2026: A1
1, E3 6, E2 6 and E1 8 (designated through 2025): tau 21. The unique plan is the 2025 one,
tau* = 9, whichever plan (L1) returned.
"""

from __future__ import annotations

import dataclasses

import pulp
from model_cases import PH, Y2, A, app, county_quotas, fac, make_problem

from dingdian.models import tiebreak
from dingdian.models.data import ExitPlan
from dingdian.models.site import build_site_model
from dingdian.result import OPTIMAL
from dingdian.run import stages


def _exits_first():
    facilities = [fac("E1", 40), fac("E2", 60), fac("E3", 70), app("A1", 95)]
    p = make_problem(facilities, targets={2026: 2},
                     quotas=county_quotas({2025: (1, 2), 2026: (1, 2)}))
    return dataclasses.replace(p, exit_plan=tuple(ExitPlan(A, PH, y, 2) for y in Y2))


def _l1_plan_in(model, year: int) -> dict[str, float]:
    """An optimal plan of (L1) with A1 admitted in ``year`` (one of the two that tie)."""
    pinned = dataclasses.replace(model, lp=model.lp.copy())
    pinned.lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(model.a["A1", year], 1)]),
                                              pulp.LpConstraintEQ, rhs=1), "pin")
    status, z, _b, values, _ = stages.run_backend(pinned, "highs")
    assert status == OPTIMAL and z == 29
    return values


def _stage_l2(model):
    staged = dataclasses.replace(model, lp=model.lp.copy())
    tiebreak.hold_objective(staged, model.lp.objective, 29)
    tau = tiebreak.tie_break_expression(staged)
    staged.lp.setObjective(tau)
    return staged, tau


def test_the_model_keeps_its_switches():
    model = build_site_model(_exits_first())
    assert sorted(model.switches) == [(A, PH, 2025), (A, PH, 2026)]
    assert all(q.cat == pulp.LpInteger and (q.lowBound, q.upBound) == (0, 1)  # binary
               for q in model.switches.values())


def test_a_start_from_the_other_tied_plan_still_gives_the_unique_plan():
    model = build_site_model(_exits_first())
    late = _l1_plan_in(model, 2026)
    q = {t: model.switches[A, PH, t].name for t in Y2}
    assert (round(late[q[2025]]), round(late[q[2026]])) == (0, 1)
    staged, tau = _stage_l2(model)
    start = stages.held_switches(staged, "highs", late, None, None, {})
    assert start is not None and stages.value(tau, start) == 21  # the 2026 plan, held
    status, z, _b, values, _ = stages.run_backend(staged, "highs", None, {}, start)
    assert status == OPTIMAL and z == 9  # HiGHS left the start for the 2025 plan
    assert round(values[model.a["A1", 2025].name]) == 1
    # the whole stage, as a solve runs it, from that (L1) plan
    values, record, _unique = stages.lexicographic(model, "highs", 29, late, ("L2",), None,
                                                   None, [], None)
    assert [(r["stage"], r["status"], r["objective"]) for r in record] == [("L2", OPTIMAL, 9)]
    assert round(values[model.a["A1", 2025].name]) == 1


def test_only_highs_gets_a_start_and_a_model_without_switches_none():
    model = build_site_model(_exits_first())
    late = _l1_plan_in(model, 2026)
    staged, _tau = _stage_l2(model)
    assert stages.held_switches(staged, "cbc", late, None, None, {}) is None
    assert stages.held_switches(staged, "cpsat", late, None, None, {}) is None
    bare = dataclasses.replace(staged, switches={})
    assert stages.held_switches(bare, "highs", late, None, None, {}) is None


def test_a_start_that_breaks_a_row_is_ignored():
    """Every variable 0 misses the 2026 target: HiGHS drops the start and finds the optimum."""
    model = build_site_model(_exits_first())
    status, z, _b, _values, _ = stages.run_backend(model, "highs", None, {},
                                                   {v.name: 0.0 for v in model.lp.variables()})
    assert status == OPTIMAL and z == 29
