r"""Single-year covering models: LSCP and MCLP, for comparison with PySAL spopt.

These are the two textbook covering models (Toregas et al. 1971; Church & ReVelle 1974) on
dingdian's own data: the cells are the planning cells (demand, weighted by population), the
candidates are facilities of one kind, and a candidate *reaches* a cell when the distance from
the cell centre is at most the service radius (1,060.82 m, the plan's 15-minute circle). They
are not part of the multi-year plan (:mod:`dingdian.models.site`); ``benchmarks/peers.py`` uses them to
check dingdian's modelling and solving against spopt on the same instance.

Sets and data: :math:`I` demand cells with population :math:`w_i`, :math:`J` candidates,
:math:`R_i \subseteq J` the candidates within the radius of cell :math:`i`, :math:`p` the
number of facilities to place (MCLP). Variables: :math:`y_j` candidate :math:`j` chosen,
:math:`z_i` cell :math:`i` covered (MCLP), binary.

LSCP (location set covering, fewest facilities that cover every cell)::

    min  Σ_j y_j
    (1) cover   Σ_{j∈R_i} y_j ≥ 1        for every i ∈ I

MCLP (maximal covering location, most population covered by p facilities)::

    min  −Σ_i w_i z_i                    (the covered population, maximised)
    (1) cover   z_i ≤ Σ_{j∈R_i} y_j      for every i ∈ I
    (2) budget  Σ_j y_j = p              (spopt's form; with p ≤ |J| the optimum equals that
                                          of Σ_j y_j ≤ p, since a facility more never hurts)

A cell no candidate reaches makes LSCP infeasible (its row (1) reads 0 ≥ 1), and p > |J| makes
MCLP infeasible: both are reported as such by every backend, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulp

from dingdian.models.pulp_rows import EQ, GE, LE, add_row


@dataclass(frozen=True)
class CoverageInstance:
    """Demand cells (id, population, reaching candidates by index) and candidate ids."""

    cells: tuple[str, ...]
    population: tuple[int, ...]
    candidates: tuple[str, ...]
    reach: tuple[tuple[int, ...], ...]  # per cell, indices into ``candidates``

    def __post_init__(self):
        if not (len(self.cells) == len(self.population) == len(self.reach)):
            raise ValueError("cells, population and reach must have the same length")


@dataclass
class CoverageModel:
    """A built LSCP or MCLP: the PuLP problem, ``y`` per candidate, ``z`` per cell (MCLP)."""

    instance: CoverageInstance
    kind: Literal["lscp", "mclp"]
    lp: pulp.LpProblem
    y: list[pulp.LpVariable]
    z: list[pulp.LpVariable] = field(default_factory=list)
    terms: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)


def build_lscp(instance: CoverageInstance) -> CoverageModel:
    """LSCP: the fewest candidates such that every cell is reached by one (1)."""
    lp = pulp.LpProblem("dingdian_lscp", pulp.LpMinimize)
    y = [lp.add_variable(f"y_j{j}", cat=pulp.LpBinary) for j in range(len(instance.candidates))]
    for i, reach in enumerate(instance.reach):
        add_row(lp, f"c1_cover_i{i}", [(y[j], 1) for j in reach], GE, 1)
    objective = pulp.LpAffineExpression([(v, 1) for v in y])
    lp.setObjective(objective)
    return CoverageModel(instance, "lscp", lp, y, terms={"facilities": objective})


def build_mclp(instance: CoverageInstance, p: int) -> CoverageModel:
    """MCLP: ``p`` candidates (2) covering the most population (1)."""
    lp = pulp.LpProblem("dingdian_mclp", pulp.LpMinimize)
    y = [lp.add_variable(f"y_j{j}", cat=pulp.LpBinary) for j in range(len(instance.candidates))]
    z = [lp.add_variable(f"z_i{i}", cat=pulp.LpBinary) for i in range(len(instance.cells))]
    for i, reach in enumerate(instance.reach):
        add_row(lp, f"c1_cover_i{i}", [(z[i], 1), *((y[j], -1) for j in reach)], LE, 0)
    add_row(lp, "c2_budget", [(v, 1) for v in y], EQ, p)
    covered = pulp.LpAffineExpression([(z[i], w) for i, w in enumerate(instance.population)
                                       if w != 0])
    lp.setObjective(-covered)
    return CoverageModel(instance, "mclp", lp, y, z, terms={"covered_population": covered})


def chosen(model: CoverageModel, values: dict[str, float]) -> list[int]:
    """Indices of the chosen candidates, read from solution values by variable name."""
    return [j for j, v in enumerate(model.y) if round(values.get(v.name, 0.0)) == 1]


def covered_population(instance: CoverageInstance, picks) -> tuple[int, int]:
    """``(cells, population)`` reached by the candidates ``picks``, recomputed from the data."""
    picks = set(picks)
    hit = [i for i, reach in enumerate(instance.reach) if picks.intersection(reach)]
    return len(hit), sum(instance.population[i] for i in hit)
