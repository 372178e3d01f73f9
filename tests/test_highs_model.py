"""The hand-off to HiGHS in arrays (solver/run/highs_model.py) builds the very model PuLP's own
HiGHS interface builds row by row: the same columns, rows, coefficients, bounds and
integrality in the same order, so HiGHS takes the same path to the same plan.

Compared entry by entry on the shipped Zhangye site model (12,000+ rows) and on small
problems that exercise each case PuLP's builder handles: a maximised objective (costs
negated), a variable without bounds, a zero coefficient (left out), a constant in a row (moved
to its bounds), an equality row, a problem without rows, an LP (``mip=False``: no
integrality).
"""

from __future__ import annotations

import highspy
import numpy as np
import pulp
import pytest

from dingdian.models.site import build_site_model
from dingdian.pipeline.solving import load
from dingdian.run.highs_model import HiGHS, hand_over


def _pulp_model(lp: pulp.LpProblem, mip: bool = True) -> highspy.HighsLp:
    solver = pulp.HiGHS(msg=False, mip=mip)
    solver.createAndConfigureSolver(lp)
    solver.buildSolverModel(lp)
    return lp.solverModel.getLp()


def _our_model(lp: pulp.LpProblem, mip: bool = True) -> highspy.HighsLp:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    hand_over(lp, highs, lp.variables(), mip)
    return highs.getLp()


def assert_same_model(lp: pulp.LpProblem, mip: bool = True) -> None:
    theirs, ours = _pulp_model(lp, mip), _our_model(lp, mip)
    assert (ours.num_col_, ours.num_row_) == (theirs.num_col_, theirs.num_row_)
    for field in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert np.array_equal(getattr(ours, field), getattr(theirs, field)), field
    for field in ("start_", "index_", "value_"):
        assert np.array_equal(getattr(ours.a_matrix_, field),
                              getattr(theirs.a_matrix_, field)), field
    assert list(ours.integrality_) == list(theirs.integrality_)


def _small(sense=pulp.LpMinimize) -> pulp.LpProblem:
    lp = pulp.LpProblem("small", sense)
    x = lp.add_variable("x", 0, 1, pulp.LpBinary)
    y = lp.add_variable("y", 0, 5, pulp.LpInteger)
    z = lp.add_variable("z")  # no bounds at all
    w = lp.add_variable("w", lowBound=-2)
    lp += 3 * x - 2 * y + z + 0 * w
    lp += (x + y + 0 * z >= 1, "cover")
    lp += (2 * x - y + w + 4 <= 6, "constant_moves_to_the_bound")
    lp += (z - w == 0, "equal")
    return lp


def test_small_problem_is_handed_over_identically():
    assert_same_model(_small())


def test_maximised_objective_is_negated_as_pulp_does():
    lp = _small(pulp.LpMaximize)
    assert_same_model(lp)
    # columns by name: w, x, y, z with costs 0, 3, -2, 1, negated for HiGHS's minimisation
    assert list(_our_model(lp).col_cost_) == [0.0, -3.0, 2.0, -1.0]


def test_lp_without_integrality():
    assert_same_model(_small(), mip=False)
    assert set(_our_model(_small(), mip=False).integrality_) <= {highspy.HighsVarType.kContinuous}


def test_problem_without_rows():
    lp = pulp.LpProblem("bare", pulp.LpMinimize)
    lp += lp.add_variable("v", 0, 3, pulp.LpInteger)
    assert_same_model(lp)


@pytest.fixture(scope="module")
def zhangye_model():
    return build_site_model(load("scenarios/zhangye").problem)


def test_zhangye_site_model_is_handed_over_identically(zhangye_model):
    assert_same_model(zhangye_model.lp)


def test_solve_reads_back_every_value():
    """min 3x − 2y + z + 0w: y = 5 (−10), x = 0; z = w, w ≥ −2 and 2x − y + w ≤ 2 leave
    w ≤ 7: z = w = −2 (−2). Optimum −12; every variable's value read back by name."""
    lp = _small()
    solver = HiGHS(msg=False)
    lp.solve(solver)
    assert solver.values == {"w": -2.0, "x": 0.0, "y": 5.0, "z": -2.0}
    assert pulp.value(lp.objective) == -12.0
    assert {v.name: v.varValue for v in lp.variables()} == solver.values


def test_infeasible_problem_reads_back_no_values():
    lp = _small()
    x = lp.variables()[1]
    lp += (x >= 2, "impossible")  # x is binary
    solver = HiGHS(msg=False)
    lp.solve(solver)
    assert solver.values is None
