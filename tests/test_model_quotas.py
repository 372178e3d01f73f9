"""(2) targets, (3) county quotas and (4) street quotas, each worked out by hand.

Cost reminders (default weights, see tests/model_cases.py): exit = score + 5, admission =
5 − review, 3 per change in the busiest year of a county/kind.
"""

from __future__ import annotations

import pytest
from model_cases import (
    BACKENDS,
    OPTIMAL,
    PH,
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

# ----------------------------------------------------------------------------- (2) targets


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["equal", "at_most"])
def test_target_reduce(backend, mode, tmp_path):
    # E1 (40), E2 (70), E3 (90); at most 1 exit a year; 2026 target 1 (equal or at most).
    # By hand, either mode: at least 2 exits (3 -> ≤1) and at most 2 (limits), one a year;
    # the cheapest pair E1 + E2: 45 + 75 + spread 3·1 = 123. E3 stays.
    p = make_problem([fac("E1", 40), fac("E2", 70), fac("E3", 90)], targets={2026: 1},
                     quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}), target_mode=mode)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 123
    assert set(exits(r)) == {"E1", "E2"} and sorted(exits(r).values()) == [2025, 2026]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("mode", "expected"), [("equal", 8), ("at_most", 0)])
def test_target_grow(backend, mode, expected, tmp_path):
    # E1 (60); applicant P (review 0); at most 1 admission a year; 2026 target 2.
    # equal  : P must come in: (5-0) + spread 3 = 8.
    # at_most: 1 ≤ 2 already holds; admitting P would cost 8 > 0, so nothing changes: 0.
    p = make_problem([fac("E1", 60), app("P", 0)], targets={2026: 2},
                     quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}), target_mode=mode)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == expected
    assert set(admissions(r)) == ({"P"} if mode == "equal" else set())
    assert exits(r) == {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_target_equal_twin(backend, tmp_path):
    # No applicant: the 2026 target 2 cannot be reached from 1. Elastic: target slack 1 only.
    p = make_problem([fac("E1", 60)], targets={2026: 2},
                     quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}))
    assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "the 2026 target 2 needs 1 net",
                      "only 0 applicants are available by 2026", "1 short")


@pytest.mark.parametrize("backend", BACKENDS)
def test_target_at_most_twin(backend, tmp_path):
    # E2, E3 protected; 2026 target at most 0 needs 3 exits, limits allow 4, only E1 can go.
    # Elastic: target slack 2 (protection has no slack; the limits are not binding).
    p = make_problem([fac("E1", 40), fac("E2", 70, protected=True), fac("E3", 90, protected=True)],
                     targets={2026: 0}, quotas=county_quotas({2025: (0, 2), 2026: (0, 2)}),
                     target_mode="at_most")
    assert_infeasible(p, backend, tmp_path, "the 2026 target 0 needs 3 exits",
                      "only 1 of them are not protected", "2 short")


# ----------------------------------------------------------------------- (3) county quotas


@pytest.mark.parametrize("backend", BACKENDS)
def test_county_exit_limit_fixes_timing(backend, tmp_path):
    # E1 (40), E2 (50), E3 (90); exits at most 0 in 2025, 2 in 2026; 2026 target 1.
    # By hand: the cheapest pair E1, E2 must both exit in 2026: 45 + 55 + 3·2 = 106
    # (one a year would give 103 but 2025 allows none).
    p = make_problem([fac("E1", 40), fac("E2", 50), fac("E3", 90)], targets={2026: 1},
                     quotas=county_quotas({2025: (0, 0), 2026: (0, 2)}))
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 106
    assert exits(r) == {"E1": 2026, "E2": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_county_admit_limit(backend, tmp_path):
    # No existing pharmacy; P1 (90, from 2025), P2 (80, from 2026), P3 (70, from 2025);
    # at most 1 admission a year; 2026 target 2: one admission in each year.
    #   P1@25 + P2@26: -85 - 75 = -160 ; P1@25 + P3@26: -150 ; P3@25 + P1@26: -150 ;
    #   P3@25 + P2@26: -140 ; plus spread 3·1. Optimum -157: P1 in 2025, P2 in 2026.
    p = make_problem([app("P1", 90), app("P2", 80, available_from=2026), app("P3", 70)],
                     targets={2026: 2}, quotas=county_quotas({2025: (1, 0), 2026: (1, 0)}))
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == -157
    assert admissions(r) == {"P1": 2025, "P2": 2026}


def _exact(admit_2026: int = 1, **modes):
    # E1 (40), E2 (90); P1 (review 2). 2025: admit 0, exit 1; 2026: admit `admit_2026`, exit 0.
    # No target: only the quota modes make anything happen.
    return make_problem([fac("E1", 40), fac("E2", 90), app("P1", 2)],
                        quotas=county_quotas({2025: (0, 1), 2026: (admit_2026, 0)}), **modes)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("exit_mode", "admit_mode", "expected", "out", "into"),
    [
        # exact/exact: E1 out in 2025 (45, cheaper than E2's 95), P1 in 2026 (5-2 = 3),
        # one change a year: 45 + 3 + 3 = 51
        ("exact", "exact", 51, {"E1": 2025}, {"P1": 2026}),
        # exits exact only: 45 + 3 = 48
        ("exact", "at_most", 48, {"E1": 2025}, {}),
        # admissions exact only: 3 + 3 = 6
        ("at_most", "exact", 6, {}, {"P1": 2026}),
        # limits only: every change costs, nothing happens
        ("at_most", "at_most", 0, {}, {}),
    ],
)
def test_county_quota_modes(backend, exit_mode, admit_mode, expected, out, into, tmp_path):
    r = solve_verified(_exact(exit_mode=exit_mode, admit_mode=admit_mode), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == expected
    assert exits(r) == out
    assert admissions(r) == into


@pytest.mark.parametrize("backend", BACKENDS)
def test_county_exit_limit_twin(backend, tmp_path):
    # E1, E2, E3; targets 1 in 2025 and 2026; exits at most 1 in 2025, 0 in 2026.
    # Elastic costs (dingdian.models.site.SLACK_COST): 1 per unit a target is missed, 100 per unit
    # a quota or keep cell is violated.
    #   2 exits in 2025: exit slack 1                                   = 100
    #   1 exit in 2025, 1 in 2026: 2025 target slack 1 + 2026 exit slack 1 = 101
    #   1 exit in 2025 only: 2025 and 2026 target slacks 1 each           = 2  <- optimum
    # so both targets are reported 1 short, each citing the exit limits (1 by 2025 and 2026).
    p = make_problem([fac("E1", 40), fac("E2", 50), fac("E3", 90)], targets={2025: 1, 2026: 1},
                     quotas=county_quotas({2025: (0, 1), 2026: (0, 0)}))
    lines = assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "the 2025 target 1",
                              "needs 2 exits", "allow at most 1", "1 short")
    assert len(lines) == 2 and "the 2026 target 1 needs 2 exits" in lines[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_county_exact_admit_twin(backend, tmp_path):
    # 2026 publishes exactly 2 admissions, only P1 applies. Elastic: admit slack 1.
    p = _exact(admit_2026=2, exit_mode="exact", admit_mode="exact")
    assert_infeasible(p, backend, tmp_path, "甲县 定点零售药店", "2026 can make only 1 admissions",
                      "publishes exactly 2", "1 short")


# ----------------------------------------------------------------------- (4) street quotas

G = "甘州区"
EAST, WEST = "东街", "西街"


def _streets(street_quotas: bool):
    # 甘州区: E1 (40) and E2 (45) on 东街, E3 (80) on 西街; county exits ≤ 1 a year;
    # 东街 exits ≤ 0 in 2025, ≤ 1 in 2026; 2026 target 1 (two exits).
    return make_problem(
        [fac("E1", 40, county=G, street=EAST), fac("E2", 45, county=G, street=EAST),
         fac("E3", 80, county=G, street=WEST)],
        targets=(Target(G, PH, 2026, 1),),
        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}, county=G)
        + county_quotas({2025: (0, 0), 2026: (0, 1)}, county=EAST, level="street"),
        street_quotas=street_quotas)


@pytest.mark.parametrize("backend", BACKENDS)
def test_street_quotas_change_the_optimum(backend, tmp_path):
    # One exit a year (county). With street quotas 东街 allows none in 2025 and one in 2026, so
    # the 2025 exit is E3 (85) and the 2026 exit the cheaper of E1/E2: E1 (45).
    #   with street quotas   : 85 + 45 + 3 = 133, E3 in 2025, E1 in 2026
    #   street_quotas=False  : E1 + E2 = 45 + 50 + 3 = 98 (one a year, order free)
    r = solve_verified(_streets(True), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 133
    assert exits(r) == {"E3": 2025, "E1": 2026}

    off = solve_verified(_streets(False), backend, tmp_path)
    assert off.status == OPTIMAL
    assert off.objective == 98
    assert set(exits(off)) == {"E1", "E2"} and sorted(exits(off).values()) == [2025, 2026]


def _street_twin(street_quotas: bool):
    # E1 (40), E2 (45) on 东街; targets 1 in 2025 and 2026; county exits ≤ 1 a year;
    # 东街 exits ≤ 0 in both years.
    return make_problem(
        [fac("E1", 40, county=G, street=EAST), fac("E2", 45, county=G, street=EAST)],
        targets=(Target(G, PH, 2025, 1), Target(G, PH, 2026, 1)),
        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}, county=G)
        + county_quotas({2025: (0, 0), 2026: (0, 0)}, county=EAST, level="street"),
        street_quotas=street_quotas)


@pytest.mark.parametrize("backend", BACKENDS)
def test_street_quota_twin(backend, tmp_path):
    # Elastic costs (dingdian.models.site.SLACK_COST): 1 per unit a target is missed, 100 per unit
    # a quota or keep cell is violated.
    #   an exit over the 东街 limit: 100 + ...; missing both targets by 1: 2 <- optimum.
    #   The county limits allow 2 exits by 2026, nobody is protected: the street limits bind.
    lines = assert_infeasible(_street_twin(True), backend, tmp_path, "甘州区 定点零售药店",
                              "the 2025 target 1 needs 1 exits",
                              "the street exit limits (表9) and protection allow at most 0",
                              "1 short")
    assert len(lines) == 2
    # Switched off, the same scenario is feasible: E1 exits in 2025, 45 + 3 = 48.
    r = solve_verified(_street_twin(False), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 48
    assert exits(r) == {"E1": 2025}


def _rest(protect_e2: bool = False, street_quotas: bool = True):
    # 甘州区: E1 (40) and E2 (90) on 东街, R1 (30) in a rural township (no street).
    # County exits ≤ 1 in 2025 and 2026; 东街 exits ≤ 1 in both years; 2026 target 1.
    # The streets use the county's whole figure, so R1's share (the rest) is 1 − 1 = 0.
    return make_problem(
        [fac("E1", 40, county=G, street=EAST), fac("E2", 90, county=G, street=EAST,
                                                   protected=protect_e2),
         fac("R1", 30, county=G)],
        targets=(Target(G, PH, 2026, 1),),
        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}, county=G)
        + county_quotas({2025: (0, 1), 2026: (0, 1)}, county=EAST, level="street"),
        street_quotas=street_quotas)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rest_of_county_gets_what_the_streets_leave(backend, tmp_path):
    # Two exits, at most one a year (spread peak 1 → 3).
    #   with the rest rule, R1 cannot exit: E1 + E2 = (40+5) + (90+5) + 3 = 143
    #   street_quotas=False: the two cheapest, R1 + E1 = (30+5) + (40+5) + 3 = 83
    r = solve_verified(_rest(), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 143
    assert set(exits(r)) == {"E1", "E2"}
    off = solve_verified(_rest(street_quotas=False), backend, tmp_path)
    assert off.status == OPTIMAL and off.objective == 83
    assert set(exits(off)) == {"R1", "E1"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_rest_of_county_twin(backend, tmp_path):
    # E2 protected: 2 exits needed, 东街 can give only E1, R1's share is 0.
    # Elastic: 2026 target 1 short (cost 1) rather than a quota over (cost 100).
    assert_infeasible(_rest(protect_e2=True), backend, tmp_path, "甘州区 定点零售药店",
                      "the 2026 target 1 needs 2 exits",
                      "the street exit limits (表9) and protection allow at most 1", "1 short")
