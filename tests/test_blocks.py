"""Independent blocks (solver/run/blocks.py): a model solved block by block gives the plan the
whole model gives, with the optimum and the tie-break added up over the blocks.

Hand-worked on two counties that share nothing, each with the tie of test_model_tiebreak.py.
"""

from __future__ import annotations

import dataclasses

import pulp
import pytest
from model_cases import (
    BACKENDS,
    INFEASIBLE,
    OPTIMAL,
    Target,
    Weights,
    app,
    county_quotas,
    exits,
    make_problem,
    solve_verified,
    two_counties,
)

from dingdian.models.data import GateYear
from dingdian.models.site import build_site_model
from dingdian.run.backends import solve, solve_model
from dingdian.run.blocks import blocks_of, split_blocks

B = "乙县"  # the second county of two_counties


def test_blocks_partition_rows_variables_and_objective():
    model = build_site_model(two_counties())
    block = blocks_of(model.lp)
    assert sorted(set(block.values())) == [0, 1]
    parts = split_blocks(model)
    assert len(parts) == 2
    rows = [name for p in parts for name in (r.name for r in p.lp.constraints())]
    assert sorted(rows) == sorted(r.name for r in model.lp.constraints())  # each row once
    names = [{v.name for v in p.lp.variables()} for p in parts]
    assert not names[0] & names[1]
    assert names[0] | names[1] == {v.name for v in model.lp.variables()}
    for p, own in zip(parts, names, strict=True):  # a block's rows mention its variables only
        assert all(v.name in own for r in p.lp.constraints() for v in r)
    terms = {v.name: c for p in parts for v, c in p.lp.objective.items()}
    assert terms == {v.name: c for v, c in model.lp.objective.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_blocks_give_the_whole_models_plan(backend, tmp_path):
    problem = two_counties()
    r = solve_verified(problem, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 156 and r.bound == pytest.approx(156)
    assert exits(r) == {"A2": 2025, "B2": 2025}
    stages = {s["stage"]: s for s in r.stages}
    assert stages["L1"]["objective"] == 156 and stages["L2"]["objective"] == 33
    whole = solve_model(build_site_model(problem), backend, stages=("L2",), blocks=False)
    assert whole.designated.equals(r.designated)
    assert [s["objective"] for s in whole.stages] == [156, 33]
    certified = solve(problem, backend, certify=True)
    assert certified.unique is True and certified.designated.equals(r.designated)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_block_without_a_plan_leaves_no_plan(backend):
    r = solve(two_counties(exit_limit_b=0), backend)
    assert r.status == INFEASIBLE and r.designated is None


def test_a_row_without_variables_joins_the_first_block():
    model = build_site_model(two_counties())
    model.lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(), pulp.LpConstraintGE,
                                             rhs=1), "c_impossible")
    parts = split_blocks(model)
    assert "c_impossible" in [r.name for r in parts[0].lp.constraints()]
    assert solve_model(model, "highs").status == INFEASIBLE


def test_the_city_wide_gate_is_split_per_block_and_still_holds():
    """The fund gate (10) closed in 2025 is one row over both counties' applicants; it says
    each admission of 2025 is 0, so it links nothing: two blocks, each with its own gate row.
    Hand-worked: each county admits its applicant (review 95: 8d gives 5 − 95 = −90, and
    with the exit of its 70 (75) and the busiest year (3) the swap earns 12 a county) in 2026,
    the first open year, with the exit in 2025 or 2026 — the count at 2026 must be 2 either way."""
    problem = two_counties()
    problem = dataclasses.replace(
        problem, facilities=problem.facilities + (app("AN", 95), app("BN", 95, county=B)),
        gate=(GateYear(2025),),
        quotas=county_quotas({2025: (1, 2), 2026: (1, 2)})
        + county_quotas({2025: (1, 2), 2026: (1, 2)}, county=B))
    model = build_site_model(problem)
    parts = split_blocks(model)
    assert len(parts) == 2
    gate = sorted(r.name for p in parts for r in p.lp.constraints() if r.name.startswith("c10"))
    assert len(gate) == 2 and all(name.startswith("c10_gate_2025_b") for name in gate)
    r = solve_model(model, "highs", stages=("L2",))
    whole = solve_model(build_site_model(problem), "highs", stages=("L2",), blocks=False)
    assert r.status == OPTIMAL and r.objective == whole.objective
    assert r.designated.equals(whole.designated)
    assert r.designated.loc["AN", 2025] == r.designated.loc["BN", 2025] == 0
    assert r.designated.loc["AN", 2026] == r.designated.loc["BN", 2026] == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_blocks_whose_objective_has_no_term(backend, tmp_path):
    """Every weight 0 (found by tests/test_heze_properties.py): two counties, one applicant
    each, targets 0. Every plan that admits nobody costs 0, so (L1) is 0 in both blocks (CBC
    used to report no objective value at all); (L2) charges each designation-year its rank,
    so nobody is admitted: tau* = 0."""
    problem = make_problem(
        [app("N1", 0), app("N2", 0, county=B)],
        targets=tuple(Target(c, "pharmacy", y, 0) for c in ("甲县", B) for y in (2025, 2026)),
        weights=Weights(coverage=0, crowding=0, exit_score=0, admit_review=0, churn=0,
                        spread=0))
    assert len(split_blocks(build_site_model(problem))) == 2
    r = solve_verified(problem, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 0
    assert [s["objective"] for s in r.stages] == [0, 0]
    assert r.designated.to_numpy().sum() == 0
