"""The planner's greedy plan (solver/planners/greedy.py) on a hand-worked instance.

甲县 pharmacies, 2025–2026: E1 (score 40, the only facility reaching keep cell k1), E2 (60),
E3 (90); applicant P1 (review 80, from 2025). Target 2026: 2. Limits: 2025 admit 1 / exit 1,
2026 admit 0 / exit 1.

Greedy, by hand:
* 2025: 3 designated, goal 2; the exit figures up to 2026 allow 2 exits, so at most
  2 − 3 + 2 = 1 admission: P1 enters (4). 4 − 2 = 2 too many, the figure allows 1: the lowest
  score, E1 (40), exits (3).
* 2026: no admission (figure 0). 3 − 2 = 1 too many: the lowest of E2 (60), E3 (90) and P1
  (80, admitted last year, so it may exit now) is E2: it exits (2).
So the greedy keeps P1 and E3; targets and quotas hold, but k1 has no pharmacy in 2025 and 2026:
two coverage residuals.

The model instead must keep E1 (k1 is a keep cell). Its optimum exits E2 alone, in 2025 or in
2026 (equally good): 60 + 5 (churn) + 3 (the busiest year's one change) = 68. Taking P1 in
would need E3 out as well: 65 + 95 − 75 = 85, plus the spread. So 2030's set is {E1, E3}, k1
is covered in both years, and the plan has no residual (checked on every backend).
"""

from __future__ import annotations

import pytest
from model_cases import (
    BACKENDS,
    OPTIMAL,
    Cover,
    app,
    county_quotas,
    fac,
    make_problem,
    plan_frame,
    solve_verified,
)

from dingdian.check.verify import residuals
from dingdian.planners.greedy import greedy_plan
from dingdian.result import SolveResult

PROBLEM = make_problem(
    [fac("E1", 40), fac("E2", 60), fac("E3", 90), app("P1", 80)],
    targets={2026: 2},
    quotas=county_quotas({2025: (1, 1), 2026: (0, 1)}),
    cover=[Cover("k1", "甲县", "pharmacy", 100, "keep", ("E1",))],
)


def as_result(designated) -> SolveResult:
    return SolveResult(backend="greedy", status=OPTIMAL, designated=designated)


def test_greedy_by_hand():
    plan = greedy_plan(PROBLEM)
    assert plan.loc["E1"].tolist() == [1, 0, 0]
    assert plan.loc["E2"].tolist() == [1, 1, 0]
    assert plan.loc["E3"].tolist() == [1, 1, 1]
    assert plan.loc["P1"].tolist() == [0, 1, 1]
    found = residuals(plan_frame(as_result(plan), PROBLEM), PROBLEM)
    assert found == ["5 cover: cell k1 has no pharmacy within reach in 2025",
                     "5 cover: cell k1 has no pharmacy within reach in 2026"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_keeps_the_cell_the_greedy_breaks(backend, tmp_path):
    result = solve_verified(PROBLEM, backend, tmp_path)  # asserts zero residuals
    assert result.status == OPTIMAL
    assert result.objective == 68
    assert result.designated.loc["E1"].tolist() == [1, 1, 1]
    assert result.designated[2026].to_dict() == {"E1": 1, "E2": 0, "E3": 1, "P1": 0}


def test_greedy_respects_street_figures():
    """Two streets share 甲县's one exit in 2025: 东街 may exit 0, 西街 1. The lowest score,
    E1 on 东街, is skipped; E2 (西街, 50) exits instead of it."""
    problem = make_problem(
        [fac("E1", 10, street="东街"), fac("E2", 50, street="西街"), fac("E3", 70, street="西街")],
        targets={2025: 2}, years=(2025,),
        quotas=(*county_quotas({2025: (0, 1)}),
                *county_quotas({2025: (0, 0)}, county="东街", level="street"),
                *county_quotas({2025: (0, 1)}, county="西街", level="street")),
    )
    plan = greedy_plan(problem)
    assert plan[2025].to_dict() == {"E1": 1, "E2": 0, "E3": 1}
    assert residuals(plan_frame(as_result(plan), problem), problem) == []
