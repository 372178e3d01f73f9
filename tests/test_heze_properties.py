"""Property: random small problems with the Heze plan's rules — the 800 m lists, the fund-risk
gate, exempt and priority applicants, moves — get the same answer from every backend, and every
plan passes the residual checks (which recompute rules 9–12 from the plan, not the model).

The base problems come from tests/test_properties.py; the rules are drawn on top of them.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_cases import BACKENDS, Weights, solve_verified
from test_properties import _least_violation, problems

from dingdian.models.data import GateYear, Near
from dingdian.result import INFEASIBLE, OPTIMAL

RULES = ("二(三)2 重点建设项目", "二(三)3 基层公共卫生机构", "规划说明 2025-03-01前已运营")


@st.composite
def heze_problems(draw):
    p = draw(problems())
    facilities = list(p.facilities)
    applicants = [i for i, f in enumerate(facilities) if not f.existing]
    used_old: set[str] = set()
    for i in applicants:
        f = facilities[i]
        role = draw(st.sampled_from(("plain", "plain", "exempt", "priority", "move")))
        if role == "exempt":
            facilities[i] = dataclasses.replace(f, exempt=draw(st.sampled_from(RULES)))
        elif role == "priority":
            facilities[i] = dataclasses.replace(f, priority="二(二) 一体化村卫生室")
        elif role == "move":
            olds = [g.id for g in facilities if g.existing and g.kind == f.kind
                    and g.id not in used_old]
            if olds:
                old = draw(st.sampled_from(olds))
                used_old.add(old)
                facilities[i] = dataclasses.replace(f, moves_from=old)
    near = []
    for f in facilities:
        if f.existing or f.exempt:
            continue
        others = [g.id for g in facilities if g.kind == f.kind and g.id != f.id]
        if others and draw(st.booleans()):
            near.append(Near(f.id, tuple(draw(st.lists(st.sampled_from(others), min_size=1,
                                                       max_size=3, unique=True)))))
    closed = draw(st.lists(st.sampled_from(p.years), unique=True, max_size=len(p.years)))
    weights = dataclasses.replace(p.weights, priority=draw(st.sampled_from((0, 50))))
    return dataclasses.replace(p, facilities=tuple(facilities), near=tuple(near),
                               gate=tuple(GateYear(y, "收到基金运行风险预警函") for y in sorted(closed)),
                               weights=weights)


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(problem=heze_problems())
def test_backends_agree_with_heze_rules(problem, tmp_path):
    results = {b: solve_verified(problem, b, tmp_path) for b in BACKENDS}
    statuses = {b: r.status for b, r in results.items()}
    assert len(set(statuses.values())) == 1, statuses
    if statuses["highs"] == OPTIMAL:
        objectives = {b: r.objective for b, r in results.items()}
        assert len(set(objectives.values())) == 1, objectives
    else:
        assert statuses["highs"] == INFEASIBLE
        violations = {b: _least_violation(problem, b) for b in BACKENDS}
        assert len(set(violations.values())) == 1 and violations["highs"] > 0, violations


def test_weights_have_a_priority_default():
    assert Weights().priority == 50
