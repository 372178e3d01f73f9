"""A PuLP problem handed to HiGHS in three array calls, in PuLP's own order.

PuLP's HiGHS interface (``pulp.HiGHS``) builds the HiGHS model one column and one row at a
time (a Python call into HiGHS per variable and per row) and collects the problem's variables
three times per solve (:meth:`pulp.LpProblem.variables` walks every row each time). On
Zhangye's twelve blocks (33 HiGHS runs: (L1), the start of (L2), (L2)) that took about a fifth
of the solver's CPU time (benchmarks/README.md, "The hand-off to HiGHS").

:class:`HiGHS` hands over the *same* model: the columns in PuLP's order (variables sorted by
name; cost, bounds, integrality), the rows in PuLP's order with their zero coefficients left
out, as PuLP's ``buildSolverModel`` does, but in one ``addCols``, one ``addRows`` and one
``changeColsIntegrality`` call; it collects the variables once and reads the values back once.
HiGHS receives an identical model, so it takes the identical path to the identical plan
(``tests/test_highs_model.py`` compares the two models entry by entry). The objective's
constant is left out, as PuLP leaves it out; callers add it back (:mod:`dingdian.run.blocks`).
"""

from __future__ import annotations

import numpy as np
import pulp


def hand_over(lp: pulp.LpProblem, highs, variables: list[pulp.LpVariable], mip: bool) -> None:
    """Build ``lp`` in the (empty) ``highs`` model: columns ``variables`` (PuLP's order), then
    every row, then integrality; set ``var.index`` and ``row.index`` as PuLP does."""
    import highspy

    inf = highspy.kHighsInf
    n = len(variables)
    sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
    objective = lp.objective if lp.objective is not None else {}
    cost = np.fromiter((sign * objective.get(v, 0.0) for v in variables), float, n)
    lower = np.fromiter((-inf if v.lowBound is None else v.lowBound for v in variables), float, n)
    upper = np.fromiter((inf if v.upBound is None else v.upBound for v in variables), float, n)
    for i, v in enumerate(variables):
        v.index = i
    empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0, float)
    highs.addCols(n, cost, lower, upper, 0, empty_i, empty_i, empty_f)

    rows = list(lp._constraints.values())
    starts = np.zeros(len(rows), np.int32)
    index: list[int] = []
    value: list[float] = []
    row_lower = np.empty(len(rows))
    row_upper = np.empty(len(rows))
    for r, row in enumerate(rows):
        starts[r] = len(index)
        for var, coef in row.items():
            if coef != 0:
                index.append(var.index)
                value.append(coef)
        row.index = r
        lb, ub = row.getLb(), row.getUb()
        row_lower[r] = -inf if lb is None else lb
        row_upper[r] = inf if ub is None else ub
    if rows:
        highs.addRows(len(rows), row_lower, row_upper, len(index), starts,
                      np.asarray(index, np.int32), np.asarray(value, float))
    if mip:
        integer = [v.index for v in variables if v.cat == pulp.LpInteger]
        if integer:
            highs.changeColsIntegrality(len(integer), np.asarray(integer, np.int32),
                                        np.ones(len(integer), np.uint8))  # kInteger


class HiGHS(pulp.HiGHS):
    """PuLP's in-process HiGHS with the model handed over in arrays (:func:`hand_over`), and a
    plan to start from (``start``: values by variable name; HiGHS checks it and ignores one
    that breaks a row). After a solve, ``values`` holds the column values by variable name
    (None when HiGHS has no feasible solution); each variable's ``varValue`` is set as PuLP
    sets it. The solver's status is read from ``lp.solverModel`` by the caller."""

    def __init__(self, *args, start: dict[str, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start
        self.values: dict[str, float] | None = None

    def actualSolve(self, lp):  # noqa: N802 - PuLP's name
        self.createAndConfigureSolver(lp)
        variables = lp.variables()
        hand_over(lp, lp.solverModel, variables, self.mip)
        if self.start:
            import highspy

            solution = highspy.HighsSolution()
            solution.col_value = [float(round(self.start.get(v.name, 0.0))) for v in variables]
            solution.value_valid = True
            lp.solverModel.setSolution(solution)
        self.callSolver(lp)
        self.values = None
        if lp.solverModel.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
            col_value = list(lp.solverModel.getSolution().col_value)
            for var, x in zip(variables, col_value, strict=True):
                var.varValue = x
            self.values = {v.name: x for v, x in zip(variables, col_value, strict=True)}
        return lp.solverModel.getModelStatus()
