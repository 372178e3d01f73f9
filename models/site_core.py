"""The site model's container and its building blocks, shared by :mod:`dingdian.models.site`
and the rules built on it (:mod:`dingdian.models.allocation`, :mod:`dingdian.models.tiebreak`).

* :class:`SiteModel` — the PuLP problem, its variables, the elastic slacks and the objective
  terms;
* :class:`Namer` — stable ASCII names (facilities, areas and cells by their sorted index), so
  that every backend reads the same MPS/LP file;
* :func:`limit` — one row ``expr (<=|==|>=) rhs`` with, in the elastic form, the slacks that
  :mod:`dingdian.run.explain` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulp

from dingdian.models.data import SiteProblem
from dingdian.models.pulp_rows import EQ, GE, LE


@dataclass
class SiteModel:
    """The built model: the PuLP problem, its variables and what each slack stands for."""

    problem: SiteProblem
    lp: pulp.LpProblem
    x: dict[tuple[str, int], pulp.LpVariable | int]
    a: dict[tuple[str, int], pulp.LpVariable]
    e: dict[tuple[str, int], pulp.LpVariable]
    elastic: bool = False
    # slack variable name -> (constraint family, key, direction '+' = above the limit)
    slacks: dict[str, tuple[str, tuple, str]] = field(default_factory=dict)
    slack_vars: list[tuple[int, pulp.LpVariable]] = field(default_factory=list)
    # objective term name -> linear expression, for reporting each term after the solve
    terms: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)
    # allocation rules (dingdian.models.allocation): (facility, year) -> v, (role, facility, year) -> r
    overrides: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    roles: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    # (15) exits before admissions: (county, kind, year) -> q, 1 when the year may admit
    switches: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)


def _safe(text: str) -> str:
    """An ASCII name fragment for solvers that reject other characters in MPS/LP names."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in text)


class Namer:
    """Stable, ASCII, unique names: facilities and areas by their index in sorted order."""

    def __init__(self, problem: SiteProblem):
        self.fac = {f.id: i for i, f in enumerate(problem.facilities)}
        areas = sorted({q.area for q in problem.quotas} | {t.county for t in problem.targets})
        areas += sorted({f.county for f in problem.facilities} - set(areas))
        self.area = {name: i for i, name in enumerate(areas)}
        cells = sorted({c.cell for c in problem.cover} | {c.cell for c in problem.crowd})
        self.cell = {name: i for i, name in enumerate(cells)}

    def f(self, fid: str) -> str:
        return f"f{self.fac[fid]}"

    def ar(self, area: str) -> str:
        return f"a{self.area[area]}"

    def c(self, cell: str) -> str:
        return f"i{self.cell[cell]}"


#: Elastic-form cost per unit of violation, by constraint family (see the module docstring).
SLACK_COST = {"target": 1}
DEFAULT_SLACK_COST = 100


def _slack(model: SiteModel, name: str, family: str, key: tuple, direction: str,
           cost: int | None = None):
    """A non-negative integer slack (elastic form only) recorded for the explanation."""
    s = model.lp.add_variable(name, lowBound=0, cat=pulp.LpInteger)
    model.slacks[name] = (family, key, direction)
    model.slack_vars.append((cost if cost is not None
                             else SLACK_COST.get(family, DEFAULT_SLACK_COST), s))
    return s


def limit(model: SiteModel, name: str, expr, rhs: int, sense: str, family: str, key: tuple,
          cost: int | None = None):
    """Add ``expr (<=|==|>=) rhs``; in the elastic form with slacks on the violated side(s),
    each unit costing ``cost`` (default: the family's, :data:`SLACK_COST`).

    A row without variables that holds anyway (no applicant in an area: ``0 <= 3``) is left
    out; one that cannot hold is kept, so that the model is infeasible and explained.
    """
    if type(expr) is pulp.LpAffineExpression:  # a private copy, as lpSum([expr]) makes
        copy = pulp.LpAffineExpression(expr)
        copy.constant = 0.0 + expr.constant
        expr = copy
    else:
        expr = pulp.lpSum([expr])
    if not expr.keys():
        holds = {"<=": expr.constant <= rhs, "==": expr.constant == rhs,
                 ">=": expr.constant >= rhs}[sense]
        if holds:
            return
    if model.elastic:
        if sense in ("<=", "=="):
            expr.addterm(_slack(model, f"s_{name}_up", family, key, "+", cost), -1)
        if sense in (">=", "=="):
            expr.addterm(_slack(model, f"s_{name}_dn", family, key, "-", cost), 1)
    model.lp.addConstraint(pulp.LpConstraint(expr, {"<=": LE, "==": EQ, ">=": GE}[sense],
                                             rhs=rhs), name)
