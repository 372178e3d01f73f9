"""LSCP and MCLP (models/coverage.py) on a hand-worked instance, on every backend.

Four cells on a line, three candidates::

    cell   A    B    C    D        population 10, 20, 30, 40
    reach  {0}  {0,1} {1,2} {2}

LSCP: A is reached only by candidate 0 and D only by candidate 2, so both are needed; {0, 2}
reaches A, B (via 0), C, D (via 2): the optimum is 2 facilities, {0, 2}, and it is unique
(any optimal set must hold 0 and 2, and a third would cost one more).

MCLP, p = 1: candidate 0 covers A+B = 30, candidate 1 covers B+C = 50, candidate 2 covers
C+D = 70: the optimum is 70 with {2}. p = 2: {0, 2} covers all four cells, 100 — the best
possible, and the only pair that does ({0,1} = 60, {1,2} = 90).

Infeasible twins: a fifth cell E that no candidate reaches makes LSCP infeasible; p = 4 > 3
candidates makes MCLP infeasible (Σ y = p cannot hold).

After each solve, the coverage is recomputed from the chosen candidates in plain pandas.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dingdian.models.coverage import CoverageInstance, build_lscp, build_mclp, chosen
from dingdian.result import INFEASIBLE, OPTIMAL
from dingdian.run.backends import BACKENDS, run_backend

LINE = CoverageInstance(cells=("A", "B", "C", "D"), population=(10, 20, 30, 40),
                        candidates=("f0", "f1", "f2"), reach=((0,), (0, 1), (1, 2), (2,)))


def recount(instance: CoverageInstance, picks: list[int]) -> pd.DataFrame:
    """Per cell: covered when a chosen candidate reaches it (a plain pandas recount)."""
    rows = [{"cell": c, "population": w, "candidate": j}
            for c, w, reach in zip(instance.cells, instance.population, instance.reach,
                                   strict=True) for j in reach]
    pairs = pd.DataFrame(rows)
    pairs["chosen"] = pairs["candidate"].isin(picks)
    per_cell = pairs.groupby(["cell", "population"], as_index=False)["chosen"].any()
    return per_cell.set_index("cell")


@pytest.mark.parametrize("backend", BACKENDS)
def test_lscp_needs_both_ends(backend):
    model = build_lscp(LINE)
    status, objective, _bound, values, _msg = run_backend(model, backend)
    assert status == OPTIMAL
    assert round(objective) == 2
    picks = chosen(model, values)
    assert picks == [0, 2]
    assert recount(LINE, picks)["chosen"].all()  # every cell reached


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("p", "best", "picks"), [(1, 70, [2]), (2, 100, [0, 2])])
def test_mclp_most_population(backend, p, best, picks):
    model = build_mclp(LINE, p)
    status, objective, _bound, values, _msg = run_backend(model, backend)
    assert status == OPTIMAL
    assert round(-objective) == best
    assert chosen(model, values) == picks
    per_cell = recount(LINE, picks)
    assert int(per_cell.loc[per_cell["chosen"], "population"].sum()) == best


@pytest.mark.parametrize("backend", BACKENDS)
def test_lscp_unreachable_cell_is_infeasible(backend):
    blind = CoverageInstance(cells=(*LINE.cells, "E"), population=(*LINE.population, 5),
                             candidates=LINE.candidates, reach=(*LINE.reach, ()))
    status, *_ = run_backend(build_lscp(blind), backend)
    assert status == INFEASIBLE


@pytest.mark.parametrize("backend", BACKENDS)
def test_mclp_more_facilities_than_candidates_is_infeasible(backend):
    status, *_ = run_backend(build_mclp(LINE, 4), backend)
    assert status == INFEASIBLE
