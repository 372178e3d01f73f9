r"""Independent blocks: a built model solved block by block, with the same rows.

Why a model splits
------------------
Call two variables of a built model *linked* when one row holds both, and let the *blocks*
:math:`V_1, \dots, V_m` be the classes of the transitive closure (:func:`blocks_of`, a
union-find over the rows). Every row lies in one block by construction, and every objective
term is a term of one variable, so the objective (8) is :math:`\sum_j z_j(x_{V_j}) + c` and

.. math:: \min_x z(x) = c + \sum_j \min_{x_{V_j}} z_j(x_{V_j})

a plan is optimal exactly when each block is optimal for its own terms. On the site model a
block is one kind (pharmacies or clinics) of one group of counties that share cells, 800 m
pairs or moves (:mod:`dingdian.run.decompose` splits by county only): Zhangye has 12.

The lexicographic stages of :mod:`dingdian.models.tiebreak` split the same way. The plans
meeting (L1) are the products of each block's optimal plans (at a proven optimum
:math:`\hat x`, each block's :math:`z_j(\hat x)` is that block's own optimum, else a better
block would give a better plan), so (L1) in the block is its own optimum held; (L2)'s
:math:`\tau = \sum_{f,t}\rho_f\mu_t x_{ft}` is a sum of terms of single variables, so its
minimum over that product is the sum of the blocks' minima, with the whole problem's ranks
:math:`\rho_f` in every block (:func:`dingdian.models.tiebreak.tie_break_ranks`); (L3)'s
distance is a sum over facility-years as well. So the plan is the one the whole model's
stages give, not just an equally good one, wherever (L2) leaves one plan.

Why solve them apart
--------------------
Branch and bound on a block-diagonal model explores the *product* of the blocks' trees, and
the one row (L1) holding the whole objective lets a fractional plan pay in one block for what
it saves in another. Measured on Zhangye (wall seconds of (L1) and (L2), the model of issue 13;
the whole model on 2026-12-05, the blocks on 2026-12-06 by benchmarks/bench_wait.py):

====== ============= ==============
solver whole L1, L2  blocks L1, L2
====== ============= ==============
HiGHS  4.7, 13.9     3.6, 5.8
CBC    8.5, 5.7      4.2, 5.6
CP-SAT 21.3, 74.0    8.9, 13.4
====== ============= ==============

A row :math:`\sum_f c_f v_f \le 0` with every :math:`c_f > 0` and :math:`v_f \ge 0` (the fund
gate (10), city-wide; the pause (17)) says :math:`v_f = 0` for each term: it links nothing and
is split into one such row per block, as :mod:`dingdian.run.decompose` splits the gate. A row
without variables (a limit nobody can use that cannot hold, kept so that the model is
infeasible) joins the first block. Solving blocks: every block's (L1) first, largest first,
then each block's stages, so that a time limit leaves a plan before it leaves a tie-break
(:func:`dingdian.run.backends.solve_model`); one after the other, or the blocks of each phase
side by side in forked workers (:mod:`dingdian.run.forked`), the same calls either way.
"""

from __future__ import annotations

import dataclasses

import pulp

from dingdian.models.site_core import SiteModel
from dingdian.result import ERROR, FEASIBLE, INFEASIBLE, NO_SOLUTION, OPTIMAL

#: worst first: the status of a merged result is its worst part's (one infeasible part proves
#: the whole infeasible; then failures, no plan, a plan without proof, the optimum)
STATUS_ORDER = (INFEASIBLE, ERROR, NO_SOLUTION, FEASIBLE, OPTIMAL)


def zero_terms(row: pulp.LpConstraint) -> bool:
    """Whether ``row`` reads ``Σ c·v <= 0`` with every ``c > 0`` and every ``v >= 0``: it then
    says each term is 0 (the fund gate (10), the pause (17)), links no two variables, and is
    split into one row per block (module docstring)."""
    return (row.sense == pulp.LpConstraintLE and row.constant == 0 and len(row) > 1
            and all(c > 0 and v.lowBound is not None and v.lowBound >= 0
                    for v, c in row.items()))


def _block_ids(lp: pulp.LpProblem) -> dict[int, int]:
    """The block of every variable of ``lp`` by ``id``: blocks numbered by the order of
    their first row; a variable in no row joins block 0 (it links nothing)."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for row in lp.constraints():
        ids = [id(v) for v in row]
        for i in ids:
            parent.setdefault(i, i)
        if len(ids) > 1 and (row.constant != 0 or not zero_terms(row)):
            root = find(ids[0])
            for j in ids[1:]:
                other = find(j)
                if other != root:
                    parent[other] = root
    numbers: dict[int, int] = {}
    block = {i: numbers.setdefault(find(i), len(numbers)) for i in parent}
    for var in lp.objective:
        block.setdefault(id(var), 0)
    return block


def blocks_of(lp: pulp.LpProblem) -> dict[str, int]:
    """The block of every variable of ``lp`` by name (module docstring), numbered by the
    order of each block's first row."""
    block = _block_ids(lp)
    return {v.name: block[id(v)] for v in lp.variables()}


def split_blocks(model: SiteModel) -> list[SiteModel]:
    """``model``'s blocks as models of their own: each shares ``model``'s variables and
    rows, holds only its block's rows and objective terms (no constant), largest first (by
    rows; ties by block number). A row of :func:`zero_terms` over several blocks becomes one
    row per block, ``<name>_b<block>``. One block: ``[model]`` itself."""
    lp = model.lp
    block = _block_ids(lp)
    if len(set(block.values())) <= 1:
        return [model]
    rows: dict[int, dict] = {}
    for row in lp.constraints():
        first = next(iter(row), None)
        if first is None:
            rows.setdefault(0, {})[row.name] = row
            continue
        j = block[id(first)]
        if all(block[id(v)] == j for v in row):  # else a zero_terms row, split
            rows.setdefault(j, {})[row.name] = row
            continue
        pieces: dict[int, list] = {}
        for v, c in row.items():
            pieces.setdefault(block[id(v)], []).append((v, c))
        for j, terms in pieces.items():  # a zero_terms row: each block's terms are 0
            name = f"{row.name}_b{j}"
            rows.setdefault(j, {})[name] = pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintLE, name=name, rhs=0)
    terms: dict[int, list] = {}
    for var, coef in lp.objective.items():
        terms.setdefault(block[id(var)], []).append((var, coef))
    parts = []
    for j in sorted(set(rows) | set(terms), key=lambda j: (-len(rows.get(j, ())), j)):
        sub = pulp.LpProblem(f"{lp.name}_b{j}", lp.sense)
        sub._constraints = rows.get(j, {})  # shared rows, as LpProblem.copy shares them
        sub.setObjective(pulp.LpAffineExpression(terms.get(j, [])))
        parts.append(dataclasses.replace(model, lp=sub))
    return parts


def names_in(model: SiteModel) -> set[str]:
    """The names of the variables of ``model``'s own problem (a block's)."""
    return {v.name for v in model.lp.variables()}


def merge_stages(stage_lists: list[tuple[dict, ...] | list[dict]],
                 time_limit: float | None = None) -> tuple[dict, ...]:
    """The lexicographic stages every part ran, added up: objective and bound summed (each
    stage's objective is a sum over variables, so over parts), seconds summed, worst status;
    cut short when a part's was; the time limit ``time_limit`` when given, else the longest
    one a part was given."""
    if not stage_lists:
        return ()
    out = []
    for name in [st["stage"] for st in stage_lists[0]]:
        rows = [next((st for st in stages if st["stage"] == name), None)
                for stages in stage_lists]
        if any(row is None for row in rows):
            break

        def total(key, rows=rows):
            values = [row[key] for row in rows]
            return None if any(v is None for v in values) else float(sum(values))

        limits = [row.get("time_limit") for row in rows]
        limit = (round(time_limit, 3) if time_limit is not None
                 else None if None in limits else max(limits))
        out.append({"stage": name,
                    "status": min((row["status"] for row in rows), key=STATUS_ORDER.index),
                    "objective": total("objective"), "bound": total("bound"),
                    "seconds": round(sum(row["seconds"] for row in rows), 3),
                    "time_limit": limit,
                    "cut_short": any(row.get("cut_short") for row in rows)})
    return tuple(out)
