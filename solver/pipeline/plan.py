"""What :func:`dingdian.solve` returns: a :class:`Plan`, frozen, with everything a planner reads.

A plan holds the scenario it was solved on, the site model's :class:`~dingdian.result.SolveResult`,
the planners run beside it (beds, nursing, street split, basic set, indices: each an
:class:`~dingdian.result.ExtraResult`), the residual check and, when no plan exists, the
explanation. The output files are computed from it on first use (:attr:`Plan.files`) and
written only by :meth:`Plan.write`, atomically. Nothing in a plan changes after the solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from dingdian.result import INFEASIBLE, ExtraResult, SolveResult
from dingdian.scenario.loader import Scenario
from dingdian.write.allocation import headline
from dingdian.write.frames import PlanFiles, plan_files
from dingdian.write.outputs import write_plan_files


@dataclass(frozen=True, eq=False)
class Plan:
    """A solved (or proven impossible) plan.

    ``solver`` is the backend that produced ``result`` (the fallback's, when the first solver
    failed; ``fallback_from`` then says why). ``verification`` lists the rules the plan breaks,
    recomputed from plan.csv alone (empty: every rule holds; None: no plan to check).
    ``explanation`` says, for an infeasible plan, which county, target or limit makes it so.
    ``decomposition`` is the :class:`dingdian.run.decompose.Decomposed` record of a
    ``decompose=True`` solve. ``time_limit`` is the run's limit (seconds, None: none) and
    ``time_limit_reached`` whether its last solve ended at or after it (:attr:`cut_short` says
    which solves stopped short).
    """

    scenario: Scenario
    result: SolveResult
    solver: str
    extras: tuple[ExtraResult, ...] = ()
    verification: tuple[str, ...] | None = None
    explanation: tuple[str, ...] | None = None
    decomposition: object | None = None
    fallback_from: str | None = None
    time_limit: float | None = None
    time_limit_reached: bool = False

    # ------------------------------------------------------------------ the solve
    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (not proven optimal), ``infeasible``, ``no_solution``."""
        return self.result.status

    @property
    def objective(self) -> float | None:
        return self.result.objective

    @property
    def bound(self) -> float | None:
        return self.result.bound

    @property
    def gap(self) -> float | None:
        return self.result.gap

    @property
    def has_plan(self) -> bool:
        """True when a plan was found (proven optimal or the best within a limit)."""
        return self.result.has_plan

    @property
    def infeasible(self) -> bool:
        return self.result.status == INFEASIBLE

    @property
    def cut_short(self) -> list[str]:
        """The solves that ended without a proof, stopped by the time limit or the solver's own
        limits (or, a tie-break stage, not run for lack of time): the site model's stages
        (``L1``, ``L2``, ``L3``) and the planners (``nursing``, ``beds``). With ``L2`` among
        them an optimal plan is not the unique one every solver returns."""
        return [*self.result.cut_short,
                *(e.name for e in self.extras if e.summary.get("cut_short"))]

    # ------------------------------------------------------------------ the files
    @cached_property
    def files(self) -> PlanFiles:
        """Every output file's content (:class:`dingdian.write.frames.PlanFiles`)."""
        if not self.has_plan:
            raise ValueError(f"no plan to show or write (status {self.status})")
        summary = {"time_limit": self.time_limit, "time_limit_reached": self.time_limit_reached,
                   "cut_short": self.cut_short}
        if self.decomposition is not None:
            summary["decomposition"] = self.decomposition.summary()
        return plan_files(self.scenario, self.result, verification=self.verification,
                          extras=self.extras, extra_summary=summary)

    @property
    def facilities(self) -> pd.DataFrame:
        """plan.csv: one row per facility, 0/1 designated per year, status, admitted/exited year."""
        return self.files.plan

    @property
    def counts(self) -> pd.DataFrame:
        """counts.csv: designated, admitted and exited per county (street, city), kind and year."""
        return self.files.counts

    @property
    def cells(self) -> pd.DataFrame:
        """cells.csv: the planning cells and the designated facilities in reach per year."""
        return self.files.cells

    @property
    def decisions(self) -> pd.DataFrame:
        """decisions.csv: every admission and exit with the rule and figures behind it."""
        return self.files.decisions

    @property
    def summary(self) -> dict:
        """summary.json's content."""
        return self.files.summary

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan's tables by number: 表6–表9 and, with the beds planner, 表1/表4/表5."""
        out = {spec.number: frame for spec, frame in self.files.tables}
        for extra in self.extras:
            for rel, frame in extra.files.items():
                if rel.startswith("tables/"):
                    out.setdefault(Path(rel).stem.split("_")[0], frame)
        return out

    # ------------------------------------------------------------------ reading it
    def explain(self) -> list[str]:
        """Why no plan meets every rule, one sentence per county, target or limit short
        (empty when the plan is feasible)."""
        if not self.infeasible:
            return []
        if self.explanation is not None:
            return list(self.explanation)
        from dingdian.run.explain import explain_infeasible

        return explain_infeasible(self.scenario.problem, self.solver)

    def check(self) -> list[str]:
        """Every rule the plan breaks, recomputed from plan.csv alone and from the planners'
        own frames (empty: verified)."""
        return [*(self.verification or ()),
                *(f"{e.name}: {v}" for e in self.extras for v in e.violations)]

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """The rules' warnings (a street split a street cannot carry, a missing basic-set
        hospital…); computed from the scenario alone when there is no plan."""
        extras = self.extras
        if not self.has_plan:
            from dingdian.planners.extras import rule_extras

            extras = tuple(rule_extras(self.scenario))
        return tuple(line for e in extras for line in e.summary.get("warnings") or [])

    @property
    def allocation_headline(self) -> str | None:
        """One line on the allocation rules' outcome (special-zone admissions needing expert
        approval, pharmacy roles, exits first), None when the scenario has none."""
        section = self.summary.get("allocation") if self.has_plan else None
        return headline(section) if section else None

    def write(self, out_dir: str | Path) -> Path:
        """Write every output file to ``out_dir`` atomically (an earlier folder is replaced
        whole, or left untouched on error); return its absolute path."""
        return write_plan_files(out_dir, self.files)
