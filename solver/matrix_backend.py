"""Solve the site model from its vectorised matrix (:mod:`models.site_matrix`).

For large problems the PuLP objects, not the solver, are the cost of building: this path
builds the same model as :func:`models.site.build_site_model` as CSR arrays and hands them to
the solver without a PuLP object per variable or row:

* ``highs`` — ``highspy.Highs.passModel`` with the arrays, columns sorted by name as PuLP
  sorts them, so that HiGHS gets the very model of :func:`solver.backends.solve`, with the
  same options (relative gap 0, absolute gap 0.999, the time limit);
* ``cpsat`` — the same HiGHS model written as MPS and handed to CP-SAT exactly as
  :func:`solver.backends._run_cpsat` does it.

CBC stays with :func:`solver.backends.solve` (PuLP writes its MPS file). Problems outside
:func:`models.site_matrix.supports` (Heze rules, the elastic form) fall back to that too.
The result is a :class:`solver.result.SolveResult` like any backend's.
"""

from __future__ import annotations

import math
import os
import tempfile
import time

import numpy as np
import pandas as pd

from models.data import SiteProblem
from models.site_matrix import SiteMatrix, build_site_matrix, supports
from solver.backends import BackendError, _quiet_stdout, _run_cpsat_mps, solve
from solver.result import ERROR, FEASIBLE, INFEASIBLE, NO_SOLUTION, OPTIMAL, SolveResult

MATRIX_BACKENDS = ("highs", "cpsat")


def solve_fast(problem: SiteProblem, backend: str = "highs",
               time_limit: float | None = None) -> SolveResult:
    """Build the site model as a matrix and solve it; PuLP's path where the matrix can't."""
    if backend not in MATRIX_BACKENDS or not supports(problem):
        return solve(problem, backend, time_limit)
    t0 = time.perf_counter()
    m = build_site_matrix(problem)
    build_seconds = time.perf_counter() - t0
    return solve_matrix(m, problem, backend, time_limit, build_seconds)


def highs_model(m: SiteMatrix):
    """A ``highspy.Highs`` holding ``m``, columns in name order (PuLP's order)."""
    import highspy

    order = np.argsort(np.array(m.col_names))  # PuLP hands HiGHS its columns sorted by name
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.n_cols, m.n_rows
    lp.col_cost_ = m.cost[order]
    lp.col_lower_, lp.col_upper_ = m.col_lower[order], m.col_upper[order]
    lp.row_lower_, lp.row_upper_ = m.row_lower, m.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = m.n_cols, m.n_rows
    lp.a_matrix_.start_ = m.start
    lp.a_matrix_.index_ = where[m.index]
    lp.a_matrix_.value_ = m.value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m.n_cols
    lp.col_names_ = [m.col_names[j] for j in order]
    lp.row_names_ = m.row_names
    with _quiet_stdout():  # HiGHS prints its banner when created
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
    return h, order


def _run_highs(m: SiteMatrix, time_limit: float | None):
    h, order = highs_model(m)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.999)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    with _quiet_stdout():
        h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    values = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        values = np.empty(m.n_cols)
        values[order] = np.asarray(h.getSolution().col_value)
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    if status == "Optimal":
        return OPTIMAL, info.objective_function_value, bound, values, status
    if status == "Infeasible":
        return INFEASIBLE, None, None, None, status
    if values is not None:
        return FEASIBLE, info.objective_function_value, bound, values, status
    return NO_SOLUTION, None, bound, None, status


def _run_cpsat(m: SiteMatrix, time_limit: float | None):
    h, _order = highs_model(m)
    fd, path = tempfile.mkstemp(prefix="dingdian-", suffix=".mps")
    os.close(fd)
    try:
        with _quiet_stdout():
            h.writeModel(path)
        status, objective, bound, by_name, message = _run_cpsat_mps(path, time_limit, 0.0)
    finally:
        os.unlink(path)
    values = None
    if by_name is not None:
        values = np.array([by_name.get(name, 0.0) for name in m.col_names])
    return status, objective, bound, values, message


def solve_matrix(m: SiteMatrix, problem: SiteProblem, backend: str,
                 time_limit: float | None = None, build_seconds: float = 0.0) -> SolveResult:
    """Solve a built matrix with ``highs`` or ``cpsat`` and read the plan back."""
    runners = {"highs": _run_highs, "cpsat": _run_cpsat}
    if backend not in runners:
        raise BackendError(f"the matrix path runs {', '.join(runners)}, not '{backend}'")
    t0 = time.perf_counter()
    try:
        status, objective, bound, values, message = runners[backend](m, time_limit)
    except Exception as exc:  # noqa: BLE001 - a solver failure is a status, not a crash
        status, objective, bound, values, message = ERROR, None, None, None, str(exc)
    solve_seconds = time.perf_counter() - t0
    designated, terms = None, {}
    if values is not None and status in (OPTIMAL, FEASIBLE):
        rounded = np.round(values)
        designated = _designated(m, problem, rounded)
        terms = {k: float(round(v @ rounded, 6)) for k, v in m.terms.items()}
        objective = float(round(m.cost @ rounded, 6))
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(1.0, abs(objective))
    return SolveResult(backend=backend, status=status, objective=objective, bound=bound, gap=gap,
                       build_seconds=build_seconds, solve_seconds=solve_seconds,
                       n_variables=m.n_cols, n_constraints=m.n_rows, designated=designated,
                       objective_terms=terms, message=message)


def _designated(m: SiteMatrix, problem: SiteProblem, values: np.ndarray) -> pd.DataFrame:
    years = list(problem.years)
    ids = [f.id for f in problem.facilities]
    cols = np.array([[m.x[fid, t] for t in years] for fid in ids], dtype=np.int64)
    frame = pd.DataFrame(values[cols].astype(int), index=ids, columns=years)
    frame.insert(0, problem.base_year, [int(f.existing) for f in problem.facilities])
    frame.index.name = "facility_id"
    return frame
