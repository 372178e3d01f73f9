"""Tiny-instance builders and the solve-then-verify helper shared by the model tests.

Every hand-worked test in ``tests/test_model_*.py`` builds its :class:`SiteProblem` with
:func:`make_problem`, solves it with :func:`solve_verified` (which writes the plan to CSV, reads
it back and asserts that :func:`dingdian.check.verify.residuals` finds nothing) and then reads the
decisions with :func:`exits` / :func:`admissions`.

Default weights (:class:`dingdian.models.data.Weights`) used in the hand computations::

    exit f      costs  score_f + 5        (8c: w_exit·σ + w_churn)
    admit f     costs  5 - review_f       (8d: w_churn − w_admit·σ)
    busiest year of a county/kind: 3 per change (8e)
    crowding:   2 per facility-year beyond one in a cell (8b)
    gain cell:  −10 · population per covered year (8a)
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pandas as pd

from dingdian.check.verify import residuals
from dingdian.models.data import (
    Cover,
    Crowd,
    Facility,
    Options,
    Quota,
    SiteProblem,
    Target,
    Weights,
)
from dingdian.result import INFEASIBLE, OPTIMAL, SolveResult
from dingdian.run.backends import BACKENDS, solve
from dingdian.run.explain import explain_infeasible
from dingdian.write.allocation import plan_columns

__all__ = [
    "BACKENDS", "Cover", "Crowd", "Facility", "Options", "Quota", "SiteProblem", "Target",
    "Weights", "A", "PH", "CL", "Y2", "Y3", "fac", "app", "county_quotas", "make_problem",
    "plan_frame", "solve_verified", "exits", "admissions", "designated", "explain",
    "assert_infeasible", "OPTIMAL", "INFEASIBLE", "two_counties", "B2",
]

#: the yearly-limit tables as the Zhangye plan numbers them (scenario.yaml ``table_names:``)
ZHANGYE_TABLES = (("county_clinic", "表6"), ("county_pharmacy", "表7"), ("street_clinic", "表8"),
                  ("street_pharmacy", "表9"))
A = "甲县"  # the default county
B2 = "乙县"  # the second county of two_counties
PH = "pharmacy"
CL = "clinic"
Y2 = (2025, 2026)
Y3 = (2025, 2026, 2027)


def fac(fid: str, score: int = 80, *, county: str = A, kind: str = PH, street: str = "",
        protected: bool = False, cell: str = "") -> Facility:
    """An existing designated facility."""
    return Facility(id=fid, kind=kind, county=county, street=street, existing=True,
                    protected=protected, score=score, cell=cell)


def app(fid: str, review: int = 80, *, available_from: int = 2025, county: str = A,
        kind: str = PH, street: str = "", cell: str = "") -> Facility:
    """An applicant (not designated in the base year)."""
    return Facility(id=fid, kind=kind, county=county, street=street, existing=False,
                    score=review, available_from=available_from, cell=cell)


def county_quotas(limits: dict[int, tuple[int, int]], *, county: str = A, kind: str = PH,
                  level: str = "county") -> tuple[Quota, ...]:
    """``{year: (admit, exit)}`` as quota rows."""
    return tuple(Quota(level=level, area=county, kind=kind, year=y, admit=a, exit=e)
                 for y, (a, e) in sorted(limits.items()))


def make_problem(facilities, *, targets=(), quotas=(), cover=(), crowd=(), years=Y2,
                 weights: Weights | None = None, **options) -> SiteProblem:
    """A SiteProblem with base year 2024; ``targets`` may be ``{year: count}`` for (甲县, pharmacy)."""
    if isinstance(targets, dict):
        targets = tuple(Target(A, PH, y, n) for y, n in sorted(targets.items()))
    return SiteProblem(
        facilities=tuple(facilities),
        targets=tuple(targets),
        quotas=tuple(quotas),
        cover=tuple(cover),
        crowd=tuple(crowd),
        years=tuple(years),
        options=Options(**options),
        weights=weights or Weights(),
        table_names=ZHANGYE_TABLES,  # the explanations name the tables as Zhangye's plan does
    )


def two_counties(exit_limit_b: int = 1):
    """Two counties that share nothing, each with the tie of test_model_tiebreak.py (used by
    tests/test_blocks.py and tests/test_forked.py).

    甲县: A1, A2 scored 70, A3 90; 乙县: B1, B2 scored 70, B3 90; in each county one
    pharmacy must go by 2026 (target 2), at most one exit a year, no applicant.

    Optimum (8), county by county as in test_model_tiebreak.py: an exit of a 70 costs 75, the
    busiest year 1 costs 3, so 78 a county, 156 in all; four plans tie in each county.
    Tie-break (L2), ranks over the whole problem by (score desc, id): A3 1, B3 2, A1 3, A2 4,
    B1 5, B2 6; mu 2 for 2025, 1 for 2026, so a facility designated in both years adds 3·rank
    and one that exits in 2025 adds nothing. 甲县: A2 out in 2025 gives 3·1 + 3·3 = 12 (A1 out
    in 2025: 3 + 12 = 15; either in 2026 more); 乙县: B2 out in 2025 gives 3·2 + 3·5 = 21
    (B1: 6 + 18 = 24). The unique plan: A2 and B2 exit in 2025, tau* = 33.

    The infeasible twin (``exit_limit_b=0``): 乙县 needs one exit and may make none, while
    甲县 alone has a plan: no plan at all.
    """
    facilities = [fac("A1", 70), fac("A2", 70), fac("A3", 90),
                  fac("B1", 70, county=B2), fac("B2", 70, county=B2), fac("B3", 90, county=B2)]
    problem = make_problem(
        facilities, targets={2026: 2},
        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)})
        + county_quotas({2025: (0, exit_limit_b), 2026: (0, exit_limit_b)}, county=B2))
    return dataclasses.replace(problem, targets=problem.targets + (Target(B2, "pharmacy", 2026, 2),))


def plan_frame(result: SolveResult, problem: SiteProblem) -> pd.DataFrame:
    """plan.csv's columns: facility_id, kind, county, street, protected, status, '2024', …"""
    d = result.designated
    rows = []
    for f in problem.facilities:
        row = {"facility_id": f.id, "kind": f.kind, "county": f.county, "street": f.street,
               "protected": f.protected, "status": "existing" if f.existing else "applicant"}
        for year in d.columns:
            row[str(year)] = int(d.loc[f.id, year])
        rows.append(row)
    plan = pd.DataFrame(rows)
    # the allocation columns (approval, role_<code>) as dingdian.write.outputs writes them
    fac = pd.DataFrame(index=range(len(problem.facilities)))
    if problem.zone_budget:
        fac["special_zone"] = [f.zone for f in problem.facilities]
    if problem.roles:
        fac["role_eligible"] = [";".join(f.roles) for f in problem.facilities]
    plan_columns(plan, fac, result.choices)
    return plan


def solve_verified(problem: SiteProblem, backend: str, tmp_path: Path,
                   **kwargs) -> SolveResult:
    """Solve (``kwargs`` to :func:`dingdian.run.backends.solve`); if there is a plan, write it
    to CSV, read it back and assert zero residuals."""
    result = solve(problem, backend, **kwargs)
    if result.has_plan:
        path = Path(tmp_path) / f"plan_{backend}.csv"
        plan_frame(result, problem).to_csv(path, index=False, encoding="utf-8")
        back = pd.read_csv(path, encoding="utf-8")
        assert residuals(back, problem) == [], residuals(back, problem)
    return result


def designated(result: SolveResult, fid: str) -> dict[int, int]:
    return {int(y): int(v) for y, v in result.designated.loc[fid].items()}


def _steps(result: SolveResult, sign: int) -> dict[str, int]:
    d = result.designated
    years = list(d.columns)
    out = {}
    for fid, row in d.iterrows():
        for prev, year in zip(years[:-1], years[1:], strict=True):
            if (row[year] - row[prev]) * sign > 0:
                out[fid] = int(year)
    return out


def exits(result: SolveResult) -> dict[str, int]:
    """``{facility id: exit year}`` read from the plan."""
    return _steps(result, -1)


def admissions(result: SolveResult) -> dict[str, int]:
    """``{facility id: admission year}`` read from the plan."""
    return _steps(result, +1)


def explain(problem: SiteProblem, backend: str) -> list[str]:
    return explain_infeasible(problem, backend)


def assert_infeasible(problem: SiteProblem, backend: str, tmp_path: Path,
                      *fragments: str) -> list[str]:
    """Status infeasible, and exactly one explanation line holding every fragment."""
    result = solve_verified(problem, backend, tmp_path)
    assert result.status == INFEASIBLE, (result.status, result.objective)
    lines = explain(problem, backend)
    hits = [line for line in lines if all(fr in line for fr in fragments)]
    assert len(hits) == 1, (fragments, lines)
    return lines


# --------------------------------------------------------------------------- golden LP rows
def lp_text(problem: SiteProblem, tmp_path: Path) -> str:
    """The LP file PuLP writes for ``problem``'s site model."""
    from dingdian.models.site import build_site_model

    path = tmp_path / "tiny.lp"
    build_site_model(problem).lp.writeLP(str(path))
    return path.read_text(encoding="utf-8")


def stray_rows(text: str, families) -> list[str]:
    """Row names of an LP text that belong to none of ``families`` (the objective aside)."""
    names = re.findall(r"^(\S+):", text, flags=re.M)
    return [n for n in names if n != "OBJ"
            and not any(re.match(rf"{f}_[a-z0-9]", n) for f in families)]


def lp_sections(text: str, families, row_suffix: str) -> dict[str, str]:
    """The objective and the rows of each constraint family (``<family>_<row_suffix>…``)."""
    objective = text.split("Minimize\n", 1)[1].split("Subject To\n", 1)[0]
    rows = text.split("Subject To\n", 1)[1].split("\nBounds", 1)[0]
    rows = re.split(r"\n(?=\S+:)", rows.strip())  # a row starts with 'name:'
    out = {"objective": objective.strip() + "\n"}
    for family in families:
        mine = [r for r in rows if re.match(rf"{family}_{row_suffix}", r)]
        out[family] = "\n".join(mine) + "\n"
    return out


def assert_golden(got: str, golden: Path) -> None:
    """``got`` equals the golden file (rewritten first when DINGDIAN_UPDATE_GOLDEN is set)."""
    assert got.strip(), f"no rows for {golden.stem}"
    if os.environ.get("DINGDIAN_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")
