"""The Heze plan's rules, each worked out by hand on a tiny instance, on every backend:
(9) the 800 m rule, (8f) priority classes, (12) exempt from the plan, (10) the fund-risk gate,
(11) moves across management areas — each with a twin that is infeasible (and explained in
words that name the rule) or whose optimum changes when the rule is switched off, and residual
checks that catch a plan breaking the rule.

Cost reminders (default weights, see tests/model_cases.py): exit = score + 5, admission =
5 − review, 3 per change in the busiest year of a county/kind, −10 · population per covered
gain-cell year, and (8f) −50 per admission of a priority-class applicant.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from model_cases import (
    BACKENDS,
    CL,
    OPTIMAL,
    PH,
    A,
    Cover,
    Facility,
    Target,
    Weights,
    admissions,
    app,
    assert_infeasible,
    county_quotas,
    designated,
    exits,
    fac,
    make_problem,
    solve_verified,
)

from dingdian.check.verify import near_residuals, residuals
from dingdian.models.data import GateYear, Near

B = "乙县"
KEY = "二(三)2 重点建设项目"
PRIO = "二(二) 一体化村卫生室"
DEFICIT = "上一年度当期赤字 -18500 万元"


def happ(fid: str, review: int = 80, *, available_from: int = 2025, county: str = A,
         kind: str = PH, exempt: str = "", priority: str = "", moves_from: str = "") -> Facility:
    """An applicant with the Heze rule attributes."""
    return Facility(id=fid, kind=kind, county=county, existing=False, score=review,
                    available_from=available_from, exempt=exempt, priority=priority,
                    moves_from=moves_from)


def heze(problem, *, near=(), gate=()):
    """``problem`` with the 800 m lists and the closed years of the fund-risk gate."""
    return dataclasses.replace(problem, near=tuple(near), gate=tuple(gate))


def plan_of(rows: dict[str, list[int]], problem) -> pd.DataFrame:
    """A hand-written plan frame (plan.csv's columns) from ``{id: [2024, 2025, 2026]}``."""
    out = []
    for f in problem.facilities:
        row = {"facility_id": f.id, "kind": f.kind, "county": f.county, "street": f.street,
               "protected": f.protected, "status": "existing" if f.existing else "applicant"}
        row.update({str(y): v for y, v in zip((2024, 2025, 2026), rows[f.id], strict=True)})
        out.append(row)
    return pd.DataFrame(out)


# ------------------------------------------------------------------------- (9) 800 m rule


def _near_blocks(with_rule: bool):
    # E1 (60) existing, no exit allowed; A1 (review 90) lies within 800 m of E1, A2 (70) far
    # from everybody; at most 1 admission a year; no target.
    p = make_problem([fac("E1", 60), app("A1", 90), app("A2", 70)],
                     quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}))
    return heze(p, near=[Near("A1", ("E1",))] if with_rule else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_rule_bars_the_better_applicant(backend, tmp_path):
    # Without the rule both come in, one a year: (5-90) + (5-70) + spread 3 = -147.
    # With it, A1 can never come in while E1 (which cannot exit) is designated:
    #   A2 alone: (5-70) + 3 = -62.
    off = solve_verified(_near_blocks(False), backend, tmp_path)
    assert off.status == OPTIMAL and off.objective == -147
    assert set(admissions(off)) == {"A1", "A2"}
    on = solve_verified(_near_blocks(True), backend, tmp_path)
    assert on.status == OPTIMAL and on.objective == -62
    assert set(admissions(on)) == {"A2"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_rule_exit_frees_the_site(backend, tmp_path):
    # E1 (40) existing; A1 (review 95) within 800 m of E1; 1 admission and 1 exit a year.
    #   no rule: keep E1, admit A1: (5-95) + 3                          = -87
    #   rule: A1 only once E1 is gone at the end of A1's year:
    #     E1 out 2025, A1 in 2025: 45 - 90 + spread 3·2                 = -39
    #     E1 out 2025, A1 in 2026: 45 - 90 + 3                          = -42  <- optimum
    #     E1 out 2026, A1 in 2026: -39 ; nothing: 0
    p = make_problem([fac("E1", 40), app("A1", 95)],
                     quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))
    off = solve_verified(p, backend, tmp_path)
    assert off.status == OPTIMAL and off.objective == -87 and exits(off) == {}
    on = solve_verified(heze(p, near=[Near("A1", ("E1",))]), backend, tmp_path)
    assert on.status == OPTIMAL and on.objective == -42
    assert exits(on) == {"E1": 2025} and admissions(on) == {"A1": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_rule_two_applicants_near_each_other(backend, tmp_path):
    # A1 (90) and A2 (80) within 800 m of each other; 2 admissions a year.
    #   no rule: both, one a year: -85 - 75 + 3 = -157
    #   rule: whichever comes first blocks the other for good: A1 alone -85 + 3 = -82
    p = make_problem([app("A1", 90), app("A2", 80)],
                     quotas=county_quotas({2025: (2, 0), 2026: (2, 0)}))
    off = solve_verified(p, backend, tmp_path)
    assert off.status == OPTIMAL and off.objective == -157
    near = [Near("A1", ("A2",)), Near("A2", ("A1",))]
    on = solve_verified(heze(p, near=near), backend, tmp_path)
    assert on.status == OPTIMAL and on.objective == -82
    assert set(admissions(on)) == {"A1"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_rule_twin(backend, tmp_path):
    # E1 protected; the only applicant A1 lies within 800 m of it; the 2026 target 2 needs one
    # admission. Elastic: the target slack 1 (the rule has no slack), explained by the rule.
    p = heze(make_problem([fac("E1", 60, protected=True), app("A1", 90)], targets={2026: 2},
                          quotas=county_quotas({2025: (1, 0), 2026: (1, 0)})),
             near=[Near("A1", ("E1",))])
    assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "the 2026 target 2 needs 1 net",
                      "the 800 m rule (二(二)", "bars 1 of the 1 applicants for good",
                      "within 800 m of A1", "1 short")


def test_near_residuals():
    # A plan admitting A1 in 2025 while E1 stays designated breaks (9).
    p = _near_blocks(True)
    bad = plan_of({"E1": [1, 1, 1], "A1": [0, 1, 1], "A2": [0, 0, 0]}, p)
    assert residuals(bad, p) == ["9 near: A1 admitted in 2025 with designated E1 within 800 m"]
    ok = plan_of({"E1": [1, 1, 1], "A1": [0, 0, 0], "A2": [0, 1, 1]}, p)
    assert residuals(ok, p) == []


def test_near_residuals_from_geometry():
    # Three pharmacies near Heze (UTM 50N): E1, A1 500 m east of E1, A2 900 m north of E1.
    from dingdian.geometry import lonlat_to_xy, xy_to_lonlat

    x0, y0 = (float(v) for v in lonlat_to_xy(115.47, 35.24, "EPSG:32650"))
    pts = {"E1": (x0, y0), "A1": (x0 + 500.0, y0), "A2": (x0, y0 + 900.0)}
    rows = []
    for fid, (x, y) in pts.items():
        lon, lat = (float(v) for v in xy_to_lonlat(x, y, "EPSG:32650"))
        rows.append({"facility_id": fid, "kind": PH, "lon": round(lon, 6), "lat": round(lat, 6),
                     "status": "existing" if fid == "E1" else "applicant",
                     "2025": int(fid == "E1"), "2026": 1})
    plan = pd.DataFrame(rows)
    lines = near_residuals(plan, 800.0, "EPSG:32650")
    assert len(lines) == 1 and lines[0].startswith("9 near (geometry): A1 admitted in 2026")
    plan["exempt_rule"] = ["", KEY, ""]  # exempt: the rule does not apply
    assert near_residuals(plan, 800.0, "EPSG:32650") == []


# ------------------------------------------------------------------- (8f) priority classes


def _priority(weight: int):
    # Clinics: A1 (review 90, no class), A2 (review 60, 一体化村卫生室); one admission in 2025,
    # none in 2026; no target.
    return make_problem([app("A1", 90, kind=CL), happ("A2", 60, kind=CL, priority=PRIO)],
                        quotas=county_quotas({2025: (1, 0), 2026: (0, 0)}, kind=CL),
                        weights=Weights(priority=weight))


@pytest.mark.parametrize("backend", BACKENDS)
def test_priority_class_admitted_first(backend, tmp_path):
    # weight 50: A2 (5-60-50) + 3 = -102 beats A1 (5-90) + 3 = -82.
    r = solve_verified(_priority(50), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -102
    assert admissions(r) == {"A2": 2025}
    assert r.objective_terms["8f_priority"] == -50


@pytest.mark.parametrize("backend", BACKENDS)
def test_priority_twin_without_the_bonus(backend, tmp_path):
    # weight 0: the better review wins again, A1: -82.
    r = solve_verified(_priority(0), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -82
    assert admissions(r) == {"A1": 2025}


# ------------------------------------------------------------------- (12) exempt from plan


@pytest.mark.parametrize("backend", BACKENDS)
def test_exempt_admitted_whatever_the_plan_says(backend, tmp_path):
    # E1 (60); X1 exempt (二(三)2, review 50, applies in 2026) within 800 m of E1; A1 (90).
    # No admission allowed in either year, the gate closed in 2026. X1 still comes in, in
    # 2026, outside the quota, the gate and the 800 m rule; A1 does not.
    #   X1: (5-50) + spread 3 = -42
    p = heze(make_problem([fac("E1", 60), happ("X1", 50, available_from=2026, exempt=KEY),
                           app("A1", 90)],
                          quotas=county_quotas({2025: (0, 0), 2026: (0, 0)})),
             near=[Near("X1", ("E1",))], gate=[GateYear(2026, DEFICIT)])
    r = solve_verified(p, backend, tmp_path)  # the residual check sees no quota broken
    assert r.status == OPTIMAL and r.objective == -42
    assert admissions(r) == {"X1": 2026}
    assert designated(r, "E1") == {2024: 1, 2025: 1, 2026: 1}


@pytest.mark.parametrize("backend", BACKENDS)
def test_exempt_twin_breaks_a_cap(backend, tmp_path):
    # Cap (at most) 1 in 2026; E1 designated, no exit allowed; X1 exempt applies in 2026:
    # 2 designated. Elastic: the cap (target) slack 1, explained by the exempt admission.
    p = make_problem([fac("E1", 60), happ("X1", 50, available_from=2026, exempt=KEY)],
                     targets={2026: 1}, quotas=county_quotas({2025: (0, 0), 2026: (0, 0)}),
                     target_mode="at_most")
    assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "the 2026 target 1 needs 1 exits",
                      "plus 1 admitted exempt from the plan (二(三)2 重点建设项目: X1)",
                      "the yearly exit limits (表7) allow at most 0", "1 short")


def test_exempt_residuals():
    p = make_problem([fac("E1", 60), happ("X1", 50, available_from=2025, exempt=KEY)],
                     quotas=county_quotas({2025: (0, 0), 2026: (0, 0)}))
    ok = plan_of({"E1": [1, 1, 1], "X1": [0, 1, 1]}, p)
    assert residuals(ok, p) == []  # outside the 2025 admission quota 0
    late = plan_of({"E1": [1, 1, 1], "X1": [0, 0, 1]}, p)
    assert residuals(late, p) == ["12 exempt: X1 applied in 2025 but is admitted in 2026"]
    gone = plan_of({"E1": [1, 1, 1], "X1": [0, 1, 0]}, p)
    assert "12 exempt: X1 is exempt from the plan but exits in 2026" in residuals(gone, p)
    # without the exemption the same plan breaks the quota
    plain = dataclasses.replace(p, facilities=(fac("E1", 60), app("X1", 50)))
    assert residuals(ok, plain) == ["3 county quota: 甲县 pharmacy 2025: 1 admissions, limit 0 "
                                    "(at_most)"]


# ---------------------------------------------------------------------- (10) fund-risk gate


def _gated(closed):
    # E1 (60); A1 (review 70) alone reaches gain cell G1 (population 3); 1 admission a year.
    p = make_problem([fac("E1", 60), app("A1", 70)],
                     quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}),
                     cover=[Cover("G1", A, PH, 3, "gain", ("A1",))])
    return heze(p, gate=[GateYear(y, DEFICIT) for y in closed])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_delays_admission(backend, tmp_path):
    # open : A1 in 2025: (5-70) - 10·3·2 years + 3 = -122
    # 2025 closed: A1 in 2026: -65 - 30 + 3       = -92
    r = solve_verified(_gated([]), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -122 and admissions(r) == {"A1": 2025}
    r = solve_verified(_gated([2025]), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -92 and admissions(r) == {"A1": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_twin(backend, tmp_path):
    # The 2026 target 2 needs A1 in, the gate is closed in 2025 and 2026. Elastic: target 1.
    p = dataclasses.replace(_gated([2025, 2026]), targets=(Target(A, PH, 2026, 2),))
    assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "the 2026 target 2 needs 1 net",
                      "the fund-risk gate (二(三)1) is closed in 2025: 上一年度当期赤字",
                      "2026: 上一年度当期赤字",
                      "the admission limits (表7) of the other years allow at most 0", "1 short")


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_twin_exact_quota(backend, tmp_path):
    # Exact admissions: 2025 publishes 1, the gate closes 2025. Elastic: the admit slack 1.
    p = dataclasses.replace(_gated([2025]), options=dataclasses.replace(
        _gated([2025]).options, admit_mode="exact"),
        quotas=county_quotas({2025: (1, 0), 2026: (0, 0)}))
    assert_infeasible(p, backend, tmp_path, "2025 can make only 0 admissions",
                      "publishes exactly 1 (the fund-risk gate (二(三)1) is closed in 2025",
                      "1 short")


def test_gate_residuals():
    p = _gated([2025])
    bad = plan_of({"E1": [1, 1, 1], "A1": [0, 1, 1]}, p)
    assert residuals(bad, p) == ["10 gate: 1 admission(s) in 2025 while the fund-risk gate is "
                                 "closed, e.g. A1"]
    assert residuals(plan_of({"E1": [1, 1, 1], "A1": [0, 0, 1]}, p), p) == []


# -------------------------------------------------------------------- (11) moves (二(二))


def _move(dest_admit: int = 1, moves: bool = True, protect_e2: bool = False):
    # 甲县: O (90) and E2 (40); the 2026 cap (at most) 1 needs one exit; 1 exit a year.
    # 乙县: N, O's new address (review 90 = O's score), `dest_admit` admissions a year.
    facilities = [fac("O", 90), fac("E2", 40, protected=protect_e2),
                  happ("N", 90, county=B, moves_from="O" if moves else "")]
    return make_problem(facilities, targets=(Target(A, PH, 2026, 1),), target_mode="at_most",
                        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)})
                        + county_quotas({2025: (dest_admit, 0), 2026: (dest_admit, 0)},
                                        county=B))


@pytest.mark.parametrize("backend", BACKENDS)
def test_move_is_an_exit_and_an_admission_in_one_year(backend, tmp_path):
    #   E2 exits: 45 + spread 3                                         = 48
    #   O moves to N: exit 95 + admission (5-90) + spread 3 (甲县) + 3 (乙县) = 16  <- optimum
    r = solve_verified(_move(), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 16
    out, into = exits(r), admissions(r)
    assert set(out) == {"O"} and set(into) == {"N"} and out["O"] == into["N"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_move_obeys_the_destination_quota(backend, tmp_path):
    # 乙县 admits nobody: O may not move (nor leave otherwise), E2 exits: 48.
    r = solve_verified(_move(dest_admit=0), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 48
    assert set(exits(r)) == {"E2"} and admissions(r) == {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_move_switched_off(backend, tmp_path):
    # N an ordinary applicant: E2 exits (48) and N comes in (5-90) + 3: -34; O stays.
    r = solve_verified(_move(moves=False), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -34
    assert set(exits(r)) == {"E2"} and set(admissions(r)) == {"N"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_move_twin(backend, tmp_path):
    # E2 protected: only O can leave 甲县, and only by moving, which 乙县's quota 0 forbids.
    assert_infeasible(_move(dest_admit=0, protect_e2=True), backend, tmp_path,
                      "甲县 定点零售药店", "the 2026 target 1 needs 1 exits",
                      "1 of the 1 that are not protected asked to move their address",
                      "二(二) 跨医保管理区域变更注册地址", "1 short")


def test_move_residuals():
    p = _move()
    ok = plan_of({"O": [1, 0, 0], "E2": [1, 1, 1], "N": [0, 1, 1]}, p)
    assert residuals(ok, p) == []
    split = plan_of({"O": [1, 1, 0], "E2": [1, 1, 1], "N": [0, 1, 1]}, p)
    assert residuals(split, p) == ["11 move: N admitted in 2025 but O exits in 2026"]
    alone = plan_of({"O": [1, 0, 0], "E2": [1, 1, 1], "N": [0, 0, 0]}, p)
    assert residuals(alone, p) == ["11 move: O exits in 2025 without its move to N"]
