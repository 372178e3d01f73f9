"""The allocation rules of dingdian.models.allocation, each worked out by hand on a tiny instance, on
every backend: special zones (13), pharmacy roles (14), exits before admissions (15) and the
priorities (8i)–(8k) — each with a twin that is infeasible (and explained in words that name
the rule) or whose optimum changes without the rule, and residual checks that catch a plan
breaking it.

Cost reminders (default weights, see tests/model_cases.py): exit = score + 5, admission =
5 − review, 3 per change in the busiest year of a county/kind, −10 · population per covered
gain-cell year; (8g) +200 per override, (8h) +(101 − score) per role holder, (8i) −50 remote,
(8j) −20 speciality, (8k) −10 chain per admission.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from model_cases import (
    BACKENDS,
    CL,
    OPTIMAL,
    PH,
    Y2,
    A,
    Cover,
    Facility,
    Target,
    admissions,
    assert_infeasible,
    county_quotas,
    exits,
    fac,
    lp_text,
    make_problem,
    plan_frame,
    solve_verified,
)

from dingdian.check.verify import residuals
from dingdian.models.data import ExitPlan, RoleNeed, ZoneBudget
from dingdian.models.site import build_site_model
from dingdian.scenario.allocation import APPROVAL
from dingdian.write.allocation import residuals as allocation_residuals


def zapp(fid: str, review: int = 80, *, zone: str = "", roles=(), favour=(), kind: str = PH,
         available_from: int = 2025) -> Facility:
    """An applicant with the allocation attributes."""
    return Facility(id=fid, kind=kind, county=A, existing=False, score=review,
                    available_from=available_from, zone=zone, roles=tuple(roles),
                    favour=tuple(favour))


def with_(problem, **changes):
    return dataclasses.replace(problem, **changes)


def hand_plan(rows: dict[str, list[int]], problem, **columns) -> pd.DataFrame:
    """A hand-written plan frame from ``{id: [2024, 2025, 2026]}`` plus extra columns
    ``{column: {id: value}}``."""
    out = []
    for f in problem.facilities:
        row = {"facility_id": f.id, "kind": f.kind, "county": f.county, "street": f.street,
               "protected": f.protected, "status": "existing" if f.existing else "applicant"}
        row.update({str(y): v for y, v in zip((2024, *Y2), rows[f.id], strict=True)})
        for col, values in columns.items():
            row[col] = values.get(f.id, "")
        out.append(row)
    return pd.DataFrame(out)


# ----------------------------------------------------------------- (13) special zones


def _zones(population: int, budget: int):
    # E1 existing (70); no admission allowed by 表7 (0 a year), no exit; Z1 (review 80) lies in
    # a blind spot and alone reaches gain cell g1; N1 (review 95) lies in no zone.
    p = make_problem([fac("E1", 70), zapp("Z1", 80, zone="blind"), zapp("N1", 95)],
                     quotas=county_quotas({2025: (0, 0), 2026: (0, 0)}),
                     cover=[Cover("g1", A, PH, population, "gain", ("Z1",))])
    zb = tuple(ZoneBudget(A, PH, y, budget) for y in Y2) if budget else ()
    return with_(p, zone_budget=zb)


@pytest.mark.parametrize("backend", BACKENDS)
def test_zone_override_fills_a_blind_spot(backend, tmp_path):
    # Budget 1 a year. Z1 in 2025 with an override: coverage −10·50·2 = −1000, admission
    # 5 − 80 = −75, override +200, busiest year 1 change +3: −872 (in 2026: −500 − 75 + 200
    # + 3 = −372). N1 is in no zone: the limit 0 keeps it out whatever its review.
    r = solve_verified(_zones(50, 1), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -872
    assert admissions(r) == {"Z1": 2025}
    assert r.choices["overrides"] == (("Z1", 2025),)
    assert r.objective_terms["8g_override"] == 200
    plan = plan_frame(r, _zones(50, 1))
    assert plan.set_index("facility_id").loc["Z1", "approval"] == APPROVAL
    assert plan.set_index("facility_id").loc["N1", "approval"] == ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_zone_override_twins(backend, tmp_path):
    # No budget: the limit 0 holds, nobody comes in: 0.
    r = solve_verified(_zones(50, 0), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 0 and admissions(r) == {}
    # Budget 1 but only 5 people gain: −10·5·2 − 75 + 200 + 3 = +28 > 0, so no override: the
    # budget is a last resort, never used for a better review alone.
    r = solve_verified(_zones(5, 1), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 0 and admissions(r) == {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_zone_override_infeasible_twin(backend, tmp_path):
    # The 2026 target 3 needs 2 admissions; 表7 allows none and the budget of 1 a year serves
    # zone applicants only — Z1 alone: 1 short, and the line names the overrides.
    p = with_(_zones(50, 1), targets=(Target(A, PH, 2026, 3),))
    assert_infeasible(p, backend, tmp_path, "the 2026 target 3 needs 2 net admissions",
                      "1 special-zone override(s) (五(二)2) allow at most 1", "1 short")


def test_zone_residuals():
    p = _zones(50, 1)
    # Z1 admitted in 2025 without approval: 表7's limit 0 is broken.
    bad = hand_plan({"E1": [1, 1, 1], "Z1": [0, 1, 1], "N1": [0, 0, 0]}, p,
                    approval={})
    assert residuals(bad, p) == ["3 county quota: 甲县 pharmacy 2025: 1 admissions, limit 0 "
                                 "(at_most)"]
    ok = hand_plan({"E1": [1, 1, 1], "Z1": [0, 1, 1], "N1": [0, 0, 0]}, p,
                   approval={"Z1": APPROVAL})
    assert residuals(ok, p) == []
    # N1 lies in no zone; Z1 and N1 together exceed the budget of 1 in 2025.
    both = hand_plan({"E1": [1, 1, 1], "Z1": [0, 1, 1], "N1": [0, 1, 1]}, p,
                     approval={"Z1": APPROVAL, "N1": APPROVAL})
    assert residuals(both, p) == [
        "13 zones: N1 is admitted beyond the limits but lies in no special zone",
        "13 zones: 甲县 pharmacy 2025: 2 override(s), budget 1"]


# ----------------------------------------------------------------- (14) pharmacy roles


def _roles(low: int | None):
    # E1 (60, eligible), E2 (65, not compliant: no role), E3 (90, eligible); the 2026 target 2
    # needs one exit; 1 exit a year, no admission.
    facilities = [dataclasses.replace(fac("E1", 60), roles=("dual",)), fac("E2", 65),
                  dataclasses.replace(fac("E3", 90), roles=("dual",))]
    p = make_problem(facilities, targets={2026: 2},
                     quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}))
    return with_(p, roles=(RoleNeed("dual", A, 2026, low, None),) if low else ())


@pytest.mark.parametrize("backend", BACKENDS)
def test_role_holders_best_score_first(backend, tmp_path):
    # No role: the cheapest exit E1 (either year): 60 + 5 + 3 = 68.
    r = solve_verified(_roles(None), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 68 and set(exits(r)) == {"E1"}
    # One dual-channel pharmacy: E3 (101 − 90 = 11) rather than E1 (41); E1 still exits: 79.
    r = solve_verified(_roles(1), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 79 and set(exits(r)) == {"E1"}
    assert r.choices["roles"] == (("dual", "E3", 2026),)
    assert r.objective_terms["8h_roles"] == 11


@pytest.mark.parametrize("backend", BACKENDS)
def test_role_changes_the_exit(backend, tmp_path):
    # Two holders: both eligible pharmacies stay, so E2 exits instead of E1:
    # 65 + 5 + 3 + (101 − 60) + (101 − 90) = 125.
    r = solve_verified(_roles(2), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 125 and set(exits(r)) == {"E2"}
    assert {fid for _r, fid, _t in r.choices["roles"]} == {"E1", "E3"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_role_infeasible_twin(backend, tmp_path):
    # Three holders, two eligible pharmacies.
    assert_infeasible(_roles(3), backend, tmp_path, "甲县 双通道药店", "2026 needs at least 3",
                      "2 pharmacies are eligible", "1 short")


def test_role_residuals():
    p = _roles(2)
    rows = {"E1": [1, 1, 1], "E2": [1, 0, 0], "E3": [1, 1, 1]}
    assert residuals(hand_plan(rows, p, role_dual={"E1": "2026", "E3": "2026"}), p) == []
    gone = {"E1": [1, 0, 0], "E2": [1, 1, 1], "E3": [1, 1, 1]}
    assert residuals(hand_plan(gone, p, role_dual={"E1": "2026", "E3": "2026"}), p) == [
        "14 roles: E1 holds dual in 2026 undesignated"]
    lines = residuals(hand_plan(rows, p, role_dual={"E2": "2026", "E3": "2026"}), p)
    assert lines == ["14 roles: E2 holds dual but is not eligible",
                     "14 roles: E2 holds dual in 2026 undesignated"]
    assert residuals(hand_plan(rows, p, role_dual={"E3": "2026"}), p) == [
        "14 roles: 甲县 dual 2026: 1 holder(s), needs 2–"]


# ------------------------------------------------------ (15) exits before admissions


def _sequencing(on: bool, *, zone: str = "", green: bool = False):
    # E1 (40), E2 (60), E3 (70); A1 (review 95); the 2026 target 2 (3 > 2: over-configured);
    # 1 admission and 2 exits a year, so the planned exits are 2 a year.
    p = make_problem([fac("E1", 40), fac("E2", 60), fac("E3", 70), zapp("A1", 95, zone=zone)],
                     targets={2026: 2}, quotas=county_quotas({2025: (1, 2), 2026: (1, 2)}))
    plan = tuple(ExitPlan(A, PH, y, 2) for y in Y2) if on else ()
    return with_(p, exit_plan=plan, green_channel=green)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequencing_puts_exits_first(backend, tmp_path):
    # Without the rule the swap (E1, E2 out, A1 in) is spread: 45 + 65 − 90 + 3·2 = 26, e.g.
    # E1 out and A1 in one year, E2 out the other. (E1 out alone: 45 + 3 = 48.)
    off = solve_verified(_sequencing(False), backend, tmp_path)
    assert off.status == OPTIMAL and off.objective == 26
    # With it A1 comes in only in a year with both planned exits done: the three changes share
    # one year, 45 + 65 − 90 + 3·3 = 29.
    on = solve_verified(_sequencing(True), backend, tmp_path)
    assert on.status == OPTIMAL and on.objective == 29
    year = admissions(on)["A1"]
    assert exits(on) == {"E1": year, "E2": year}


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequencing_green_channel(backend, tmp_path):
    # A1 in a blind spot on the green channel (七(三)) is not held back: 26 again.
    r = solve_verified(_sequencing(True, zone="blind", green=True), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 26


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequencing_infeasible_twin(backend, tmp_path):
    # The published admissions (exact): A1 in 2025; the 2025 target 3 keeps the count. Without
    # the rule: A1 in, E1 out in 2025 (3), E2 out in 2026 (2). With it, admitting in 2025
    # needs both planned exits of 2025, leaving 2 < 3.
    p = make_problem([fac("E1", 40), fac("E2", 60), fac("E3", 70), zapp("A1", 95)],
                     targets={2025: 3, 2026: 2}, admit_mode="exact",
                     quotas=county_quotas({2025: (1, 2), 2026: (0, 2)}))
    assert solve_verified(p, backend, tmp_path).status == OPTIMAL
    p = with_(p, exit_plan=tuple(ExitPlan(A, PH, y, 2) for y in Y2))
    assert_infeasible(p, backend, tmp_path, "the 2025 target 3", "存量退出优先 (五(一)4, 七(三))",
                      "planned exits (2025 2)", "1 short")


def _sequencing_cap():
    # E1 (40), E2 (60), E3 (70); A1 (95), A2 (90); the 2026 target 2; 1 admission and 2 exits
    # a year, planned exits 2 a year: two applicants for one place, so (15c) holds
    # a_A1 + a_A2 <= 1 · q in each year.
    p = make_problem([fac("E1", 40), fac("E2", 60), fac("E3", 70), zapp("A1", 95),
                      zapp("A2", 90)],
                     targets={2026: 2}, quotas=county_quotas({2025: (1, 2), 2026: (1, 2)}))
    return with_(p, exit_plan=tuple(ExitPlan(A, PH, y, 2) for y in Y2))


def test_sequencing_cap_row():
    # (15c) one row per over-configured county-year whose applicants outnumber its admissions
    # (f3 = A1, f4 = A2); the elastic form leaves it out, since there (3) may overflow.
    rows = {c.name: str(c).replace("-0.0", "0")
            for c in build_site_model(_sequencing_cap()).lp.constraints()
            if c.name.startswith("c15_admit_cap")}
    assert rows == {
        "c15_admit_cap_a0_pharmacy_2025": "a_f3_2025 + a_f4_2025 - q_a0_pharmacy_2025 <= 0",
        "c15_admit_cap_a0_pharmacy_2026": "a_f3_2026 + a_f4_2026 - q_a0_pharmacy_2026 <= 0"}
    elastic = build_site_model(_sequencing_cap(), elastic=True)
    assert not [c for c in elastic.lp.constraints() if c.name.startswith("c15_admit_cap")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequencing_cap_keeps_the_optimum(backend, tmp_path):
    # (15c) cuts no plan, only fractional ones: the optimum is that of test_sequencing_puts_
    # exits_first, 29 — A1 (the better review) in, with E1 and E2 out, all in one year; A2
    # stays out (a second admission would need a third exit the target does not ask for).
    r = solve_verified(_sequencing_cap(), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 29
    year = admissions(r)["A1"]
    assert "A2" not in admissions(r) and exits(r) == {"E1": year, "E2": year}


def test_sequencing_residuals():
    p = _sequencing(True)
    early = hand_plan({"E1": [1, 0, 0], "E2": [1, 1, 0], "E3": [1, 1, 1], "A1": [0, 1, 1]}, p)
    assert residuals(early, p) == ["15 sequencing: 甲县 pharmacy 2025: 1 admission(s) with 1 "
                                   "of 2 planned exits"]
    ok = hand_plan({"E1": [1, 0, 0], "E2": [1, 0, 0], "E3": [1, 1, 1], "A1": [0, 1, 1]}, p)
    assert residuals(ok, p) == []


# ---------------------------------------------------------- (8i)–(8k) priorities


@pytest.mark.parametrize(("tag", "kind", "review", "term", "objective"), [
    # remote: A2 5 − 60 − 50 + 3 = −102 beats A1 5 − 90 + 3 = −82
    ("remote", PH, 60, "8i_remote", -102),
    # speciality (clinics): A2 5 − 75 − 20 + 3 = −87 beats −82
    ("speciality", CL, 75, "8j_speciality", -87),
    # chain: A2 5 − 85 − 10 + 3 = −87 beats −82
    ("chain", PH, 85, "8k_chain", -87),
])
@pytest.mark.parametrize("backend", BACKENDS)
def test_priority_changes_the_choice(backend, tag, kind, review, term, objective, tmp_path):
    # A1 (review 90, no tag) and A2 (lower review, tagged); one admission in 2025, none in 2026.
    def problem(favour):
        return make_problem([zapp("A1", 90, kind=kind), zapp("A2", review, kind=kind,
                                                             favour=favour)],
                            quotas=county_quotas({2025: (1, 0), 2026: (0, 0)}, kind=kind))
    on = solve_verified(problem((tag,)), backend, tmp_path)
    assert on.status == OPTIMAL and on.objective == objective
    assert admissions(on) == {"A2": 2025} and term in on.objective_terms
    off = solve_verified(problem(()), backend, tmp_path)  # the twin: the better review wins
    assert off.status == OPTIMAL and off.objective == -82 and admissions(off) == {"A1": 2025}


def test_no_allocation_data_no_rows(tmp_path):
    # A problem without allocation data builds no (13)–(15) row and no (8g)–(8k) term.
    names = re.findall(r"^(\S+):", lp_text(_sequencing(False), tmp_path), flags=re.M)
    assert names and not [n for n in names if n.startswith(("c13", "c14", "c15"))]
    terms = build_site_model(_sequencing(False)).terms
    assert not [t for t in terms if t[:2] in ("8g", "8h", "8i", "8j", "8k")]
    assert allocation_residuals(hand_plan({"E1": [1, 1, 1], "E2": [1, 1, 1], "E3": [1, 1, 1],
                                           "A1": [0, 0, 0]}, _sequencing(False)),
                                _sequencing(False),
                                pd.DataFrame([[1, 1, 1]] * 3 + [[0, 0, 0]],
                                             columns=[2024, *Y2])) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_priority_never_pays_for_churn(backend, tmp_path):
    # E1 (protected), A1 (review 80, remote, from 2025), A2 (80, remote, from 2026); the 2026
    # target 2; one admission and one exit a year. The bonus rewards x[f,2026], the admission
    # less a later exit, so admitting A1, exiting it and admitting A2 earns one bonus:
    #   one applicant kept (A1 in 2025 or A2 in 2026): 5 − 80 − 50 + 3           = −122
    #   churn A1 in 2025, out 2026, A2 in 2026: (5 − 80) + (80 + 5) + (5 − 80 − 50) + 3·2
    #                                                                            = −109
    # (a bonus on each admission would have paid −159 for the churn).
    p = make_problem([fac("E1", 60, protected=True), zapp("A1", 80, favour=("remote",)),
                      zapp("A2", 80, favour=("remote",), available_from=2026)],
                     targets={2026: 2}, quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -122
    assert len(admissions(r)) == 1 and exits(r) == {}
