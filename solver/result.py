"""What a solve returns: status, objective, bound, timings and the plan itself.

A :class:`SolveResult` is a plain value: backends build it, writers read it, nothing mutates it.
The plan is ``designated``: one row per facility id, one 0/1 column per year from the base year
(2024) to the last planning year (2030). Admissions and exits are not stored separately: the
model forbids admitting and exiting in the same year (constraints 1c/1d), so they follow from the
path (admitted in *t* ⇔ 0 → 1 between *t−1* and *t*; exited ⇔ 1 → 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Statuses, shared by every backend.
OPTIMAL = "optimal"  # proven optimal (gap 0 within the solver's tolerance)
FEASIBLE = "feasible"  # a plan was found but not proven optimal (time limit)
INFEASIBLE = "infeasible"  # proven infeasible
NO_SOLUTION = "no_solution"  # stopped (time limit) before any plan was found
ERROR = "error"  # the solver failed


@dataclass(frozen=True)
class SolveResult:
    backend: str
    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    designated: pd.DataFrame | None = None
    objective_terms: dict[str, float] = field(default_factory=dict)
    message: str = ""
    #: the lexicographic stages run (dingdian.models.tiebreak): L1 the objective (8), L2 the tie-break,
    #: L3 the certificate; each ``{stage, status, objective, bound, seconds, time_limit,
    #: cut_short}`` (``time_limit``: the seconds it was given; ``cut_short``: it ended without a
    #: proof, stopped by a limit or not run for lack of time — see dingdian.run.backends)
    stages: tuple[dict, ...] = ()
    #: True when stage L3 proved no other plan is as good; None when not certified
    unique: bool | None = None
    #: decisions beside the designations (dingdian.models.allocation.chosen): ``overrides`` (facility,
    #: year) admitted beyond the yearly limits in a special zone, ``roles`` (role, facility, year)
    choices: dict[str, tuple] = field(default_factory=dict)
    #: the solver's own parameters passed through (``--solver-option``), as given
    options: dict[str, object] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.designated is not None and self.status in (OPTIMAL, FEASIBLE)

    @property
    def cut_short(self) -> tuple[str, ...]:
        """The stages cut short (``stages``): an L2 among them leaves an optimal plan that is
        not the unique tie-broken one."""
        return tuple(st["stage"] for st in self.stages if st.get("cut_short"))

    def flows(self) -> pd.DataFrame:
        """Long table ``facility_id, year, designated, admitted, exited`` for the planning years."""
        return plan_flows(self.designated)


@dataclass(frozen=True)
class ExtraResult:
    """What a planner beside the site model (beds, nursing) adds to ``OUT/``.

    ``files`` maps a path relative to ``OUT`` (``beds.csv``, ``tables/表4_….csv``) to its frame;
    files under ``tables/`` are written UTF-8 with BOM like 表6–表9. ``sheets`` are added to
    ``plan.xlsx`` (sheet name → frame), ``summary`` goes to ``summary.json`` under ``name``, and
    ``violations`` are its residual checks (empty when every rule holds).
    """

    name: str
    files: dict[str, pd.DataFrame] = field(default_factory=dict)
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def plan_flows(designated: pd.DataFrame) -> pd.DataFrame:
    """Admissions and exits recomputed from a 0/1 designation table (facility × year)."""
    years = sorted(int(c) for c in designated.columns)
    d = designated[years].astype(int)
    rows = []
    for prev, year in zip(years[:-1], years[1:], strict=True):
        delta = d[year] - d[prev]
        rows.append(
            pd.DataFrame(
                {
                    "facility_id": d.index,
                    "year": year,
                    "designated": d[year].to_numpy(),
                    "admitted": (delta > 0).astype(int).to_numpy(),
                    "exited": (delta < 0).astype(int).to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
