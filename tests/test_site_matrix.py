"""The vectorised builder (models/site_matrix.py) writes the very model of models/site.py.

Equality is checked row by row — names, order, bounds, every coefficient in PuLP's term order —
and column by column (bounds, costs, each objective term) against the PuLP model read back by
``from_pulp``: on the golden instance, on random problems (the strategy of
tests/test_properties.py, every mode and option) and on the Zhangye scenario. The matrix path of solver/matrix_backend.py then solves a hand-worked instance
on HiGHS and CP-SAT, the plan verified in plain pandas, with an infeasible twin, and falls
back to PuLP for the Heze rules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from model_cases import Cover, app, county_quotas, fac, make_problem, plan_frame
from test_golden_lp import tiny
from test_properties import problems

from models.data import Near
from models.site import build_site_model
from models.site_matrix import build_site_matrix, canonical, from_pulp, supports
from solver.matrix_backend import MATRIX_BACKENDS, solve_fast
from solver.result import INFEASIBLE, OPTIMAL
from solver.scenario import load_scenario
from solver.verify import residuals

ZHANGYE = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye"


def assert_same_model(problem) -> None:
    got = canonical(build_site_matrix(problem))
    want = canonical(from_pulp(build_site_model(problem)))
    for part in want:
        assert got[part] == want[part], part


def test_golden_instance():
    assert_same_model(tiny())


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_random_problems(problem):
    assert supports(problem)
    assert_same_model(problem)


def test_zhangye():
    assert_same_model(load_scenario(ZHANGYE / "scenario.yaml").problem)


# Two pharmacies of 甲县, E1 (score 40) reaching keep cell k1 alone, E2 (60); target 2026: 1;
# one exit a year. The lowest score would go (末位淘汰), but k1 keeps E1: E2 exits, in 2025 or
# 2026 (equal cost 60 + 5 + 3 = 68). With the target at 0 instead, k1 cannot stay covered:
# infeasible.
def _two(target: int):
    return make_problem([fac("E1", 40), fac("E2", 60)], targets={2026: target},
                        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}),
                        cover=[Cover("k1", "甲县", "pharmacy", 100, "keep", ("E1",))])


@pytest.mark.parametrize("backend", MATRIX_BACKENDS)
def test_matrix_path_solves_and_verifies(backend):
    problem = _two(1)
    result = solve_fast(problem, backend)
    assert result.status == OPTIMAL and result.objective == 68
    assert sum(result.objective_terms.values()) == 68
    assert result.designated.loc["E1"].tolist() == [1, 1, 1]
    assert result.designated.loc["E2", 2026] == 0
    assert residuals(plan_frame(result, problem), problem) == []


@pytest.mark.parametrize("backend", MATRIX_BACKENDS)
def test_matrix_path_infeasible_twin(backend):
    assert solve_fast(_two(0), backend).status == INFEASIBLE


def test_heze_rules_fall_back_to_pulp():
    problem = make_problem([fac("E1", 40), app("P1", 90)], targets={2026: 1},
                           quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))
    near = dataclasses.replace(problem, near=(Near("P1", ("E1",)),))
    assert supports(problem) and not supports(near)
    with pytest.raises(ValueError):
        build_site_matrix(near)
    assert solve_fast(near, "highs").status == OPTIMAL  # through solver.backends.solve
