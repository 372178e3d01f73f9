"""A unique plan (models/tiebreak.py): stage L2 breaks ties by score, then id; L3 certifies.

Hand-worked instances, solved on every backend with the stages of ``solve(..., certify=True)``.
The weights of (L2): :math:`\\tau = \\sum_{f,t} \\rho_f \\mu_t x_{ft}` with :math:`\\rho` the rank
by (score descending, id ascending) and :math:`\\mu` = 2 for 2025, 1 for 2026 (two planning
years), so a facility designated in both years adds :math:`3\\rho_f`.
"""

from __future__ import annotations

import pytest
from model_cases import (
    BACKENDS,
    OPTIMAL,
    county_quotas,
    exits,
    fac,
    make_problem,
    solve_verified,
)

from dingdian.models.data import Cover
from dingdian.models.tiebreak import tie_break_ranks, year_weights


def test_ranks_by_score_then_id_and_years_weigh_early_more():
    p = make_problem([fac("P2", 70), fac("P1", 70), fac("P3", 90)], targets={2026: 2})
    assert tie_break_ranks(p) == {"P3": 1, "P1": 2, "P2": 3}
    assert year_weights(p) == {2025: 2, 2026: 1}


def _equal_scores():
    """Three pharmacies, P1 and P2 both scored 70, P3 90; one must go by 2026.

    Stage L1 (objective 8): exiting P1 or P2 costs 70 + 5 = 75, P3 costs 95; one exit makes the
    busiest year 1 (8e: 3). The year does not matter (limit 1 a year), so four plans tie at 78:
    P1 or P2, in 2025 or 2026.
    Stage L2: ranks P3 = 1, P1 = 2, P2 = 3. P3 and the stayer are designated both years. P2
    exiting in 2025: tau = 1·3 + 2·3 + 0 = 9; P2 in 2026: 1·3 + 2·3 + 3·2 = 15; P1 in 2025:
    1·3 + 3·3 = 12; P1 in 2026: 3 + 9 + 2·2 = 16. The unique optimum: P2 exits in 2025 (the
    later id of the tied pair, as early as possible), tau* = 9.
    """
    return make_problem([fac("P1", 70), fac("P2", 70), fac("P3", 90)], targets={2026: 2},
                        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}))


@pytest.mark.parametrize("backend", BACKENDS)
def test_tie_broken_by_id_and_year_and_certified_unique(backend, tmp_path):
    problem = _equal_scores()
    r = solve_verified(problem, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 78
    assert exits(r) == {"P2": 2025}
    stages = {s["stage"]: s for s in r.stages}
    assert stages["L2"]["status"] == OPTIMAL and stages["L2"]["objective"] == 9
    assert r.unique is None  # not certified without certify=True

    from dingdian.run.backends import solve

    c = solve(problem, backend, certify=True)
    assert c.unique is True and {s["stage"] for s in c.stages} == {"L1", "L2", "L3"}
    assert [s["objective"] for s in c.stages if s["stage"] == "L3"] == [0]
    assert c.designated.equals(r.designated)


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_the_tie_break_stage_only_the_objective_is_fixed(backend):
    from dingdian.run.backends import solve

    r = solve(_equal_scores(), backend, unique=False)
    assert r.status == OPTIMAL and r.objective == 78 and len(r.stages) == 1
    (who, year), = exits(r).items()
    assert who in {"P1", "P2"} and year in {2025, 2026}


def _tie_the_weights_cannot_break():
    """The twin: a tie that (L2) cannot break, found by (L3).

    One planning year (2025, mu = 1), four pharmacies all scored 80 (ranks by id: Q1..Q4 = 1..4),
    target 2: two must exit, each exit costs 85 (+3·2 for the busiest year), so every pair of
    exits costs the same (8).
    Keep cell k1 is reached by Q3 and Q4, keep cell k2 by Q2 and Q4: a kept pair needs one of
    {Q3, Q4} and one of {Q2, Q4}. Allowed pairs and tau = sum of ranks kept: {Q1,Q4} 5,
    {Q2,Q3} 5, {Q2,Q4} 6, {Q3,Q4} 7. Two plans tie at tau* = 5 and differ in all four
    facility-years: (L3) finds distance 4, the plan is not unique, on every backend.
    """
    cover = (Cover("k1", "甲县", "pharmacy", 100, "keep", ("Q3", "Q4")),
             Cover("k2", "甲县", "pharmacy", 100, "keep", ("Q2", "Q4")))
    return make_problem([fac(f"Q{i}") for i in range(1, 5)], targets={2025: 2}, cover=cover,
                        quotas=county_quotas({2025: (0, 2)}), years=(2025,))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_tie_the_weights_cannot_break_is_reported_not_hidden(backend, tmp_path):
    from dingdian.run.backends import solve

    problem = _tie_the_weights_cannot_break()
    r = solve(problem, backend, certify=True)
    assert r.status == OPTIMAL and r.objective == 2 * 85 + 3 * 2  # two exits, busiest year 2
    l2 = next(s for s in r.stages if s["stage"] == "L2")
    l3 = next(s for s in r.stages if s["stage"] == "L3")
    assert l2["objective"] == 5 and l3["objective"] == 4
    assert r.unique is False
    kept = set(r.designated.index[r.designated[2025] == 1])
    assert kept in ({"Q1", "Q4"}, {"Q2", "Q3"})
