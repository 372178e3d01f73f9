"""Property: on random small SiteProblems every backend agrees.

Same status; if optimal, the same (integer) objective and a plan with no residuals; if
infeasible, the same least total violation in the elastic form (the sentences may differ when
the elastic optimum is not unique, but not the amount).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_cases import (
    BACKENDS,
    Cover,
    Crowd,
    Facility,
    Options,
    Quota,
    SiteProblem,
    Target,
    Weights,
    solve_verified,
)

from dingdian.models.site import build_site_model
from dingdian.result import INFEASIBLE, OPTIMAL
from dingdian.run.backends import run_backend

COUNTIES = ("甲县", "乙县")
KINDS = ("pharmacy", "clinic")
STREETS = ("", "东街", "西街")


@st.composite
def problems(draw) -> SiteProblem:
    n_years = draw(st.integers(2, 3))
    years = tuple(range(2025, 2025 + n_years))
    facilities = []
    for c_idx, county in enumerate(COUNTIES):
        for i in range(draw(st.integers(1, 6))):
            existing = draw(st.booleans())
            facilities.append(Facility(
                id=f"c{c_idx}f{i}",
                kind=draw(st.sampled_from(KINDS)),
                county=county,
                street=draw(st.sampled_from(STREETS)) if c_idx == 0 else "",
                existing=existing,
                protected=existing and draw(st.integers(0, 3)) == 0,
                score=draw(st.integers(0, 100)),
                available_from=draw(st.sampled_from((0, *years, years[-1] + 1))),
                cell=draw(st.sampled_from(("", "H1", "H2"))),
            ))
    groups = {(f.county, f.kind) for f in facilities}
    targets, quotas = [], []
    for county, kind in sorted(groups):
        n_exist = sum(f.existing for f in facilities if (f.county, f.kind) == (county, kind))
        for y in years:
            if draw(st.integers(0, 2)) == 0:
                count = max(0, n_exist + draw(st.integers(-2, 2)))
                targets.append(Target(county, kind, y, count))
            if draw(st.booleans()):
                quotas.append(Quota("county", county, kind, y,
                                    draw(st.integers(0, 2)), draw(st.integers(0, 2))))
    for street in STREETS[1:]:
        for kind in KINDS:
            for y in years:
                if draw(st.integers(0, 3)) == 0:
                    quotas.append(Quota("street", street, kind, y,
                                        draw(st.integers(0, 1)), draw(st.integers(0, 1))))
    cover = []
    for j in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(KINDS))
        ofkind = [f for f in facilities if f.kind == kind]
        if not ofkind:
            continue
        reach = draw(st.lists(st.sampled_from(ofkind), min_size=1, max_size=3, unique=True))
        mode = "keep" if any(f.existing for f in reach) and draw(st.booleans()) else "gain"
        cover.append(Cover(f"K{j}", reach[0].county, kind, draw(st.integers(1, 5)), mode,
                           tuple(f.id for f in reach)))
    crowd = []
    for cell in ("H1", "H2"):
        for kind in KINDS:
            here = tuple(f.id for f in facilities if f.cell == cell and f.kind == kind)
            if len(here) > 1:
                crowd.append(Crowd(cell, kind, here))
    options = Options(
        target_mode=draw(st.sampled_from(("equal", "at_most"))),
        exit_mode=draw(st.sampled_from(("at_most", "at_most", "exact"))),
        admit_mode=draw(st.sampled_from(("at_most", "at_most", "exact"))),
        street_quotas=draw(st.booleans()),
    )
    weights = draw(st.one_of(
        st.just(Weights()),
        st.builds(Weights, coverage=st.integers(0, 20), crowding=st.integers(0, 5),
                  exit_score=st.integers(0, 2), admit_review=st.integers(0, 2),
                  churn=st.integers(0, 10), spread=st.integers(0, 5)),
    ))
    return SiteProblem(facilities=tuple(facilities), targets=tuple(targets),
                       quotas=tuple(quotas), cover=tuple(cover), crowd=tuple(crowd),
                       years=years, options=options, weights=weights)


def _least_violation(problem: SiteProblem, backend: str) -> float:
    model = build_site_model(problem, elastic=True)
    status, objective, *_ = run_backend(model, backend)
    assert status == OPTIMAL, (backend, status)
    return round(objective)


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(problem=problems())
def test_backends_agree(problem, tmp_path):
    results = {b: solve_verified(problem, b, tmp_path) for b in BACKENDS}
    statuses = {b: r.status for b, r in results.items()}
    assert len(set(statuses.values())) == 1, statuses
    status = statuses["highs"]
    assert status in (OPTIMAL, INFEASIBLE), statuses
    if status == OPTIMAL:
        objectives = {b: r.objective for b, r in results.items()}
        assert all(v == round(v) for v in objectives.values()), objectives
        assert len(set(objectives.values())) == 1, objectives
        for r in results.values():
            assert sum(r.objective_terms.values()) == r.objective
    else:
        violations = {b: _least_violation(problem, b) for b in BACKENDS}
        assert len(set(violations.values())) == 1 and violations["highs"] > 0, violations
