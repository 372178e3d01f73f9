r"""Decomposition: solve independent groups of counties as separate sub-problems, in parallel.

Why the site model splits
-------------------------
Every variable of :mod:`dingdian.models.site` belongs to one facility :math:`f` (:math:`x_{ft}, a_{ft},
e_{ft}`), one cell (:math:`g_{ikt}, o_{ikt}`) or one county and kind (:math:`u_{ck}`). Call two
counties *coupled* when one row of the data mentions facilities of both, and let the
*components* be the classes of the transitive closure (union-find over the counties):

* (5) cover/gain — a cell's reach :math:`R_{ik}` may hold facilities of a neighbouring county:
  the cell's county and every reached facility's county are coupled;
* (6) crowd — the facilities located in one cell;
* (9) near — an applicant and the facilities within 800 m of it;
* (11) move — the new site and the old one.

Every other row belongs to one county already: (1) and (7), (12) to a facility; (2), (3), (8)
to a county and kind; (4) to a street or the rest of a county (a street belongs to the county
of its facilities). The fund gate (10) :math:`\sum_{f} a_{ft} \le 0` is city-wide, but with a
right-hand side of 0 and non-negative terms it says :math:`a_{ft} = 0` for each :math:`f`, so
it splits into one gate row per component with the same closed years.

So every row mentions the variables of one component only, and every objective term
(8a)–(8f) is a sum of per-variable terms with no constant: with :math:`z = \sum_c z_c`,

.. math:: \min_x z(x) = \sum_c \min_{x_c} z_c(x_c)

and a plan is optimal if and only if each component's part is optimal for its sub-problem.
The merged result adds the parts: objective :math:`\sum_c z_c`, bound :math:`\sum_c b_c` (a
sum of lower bounds is a lower bound), the objective terms term by term, the model sizes;
its status is the worst part's (one infeasible part makes the whole problem infeasible, one
part without a plan leaves no plan).

The lexicographic stages of :mod:`dingdian.models.tiebreak` split the same way. (L1) holds the
objective at the optimum :math:`z^* = \sum_c z_c^*`; since :math:`z_c \ge z_c^*` for every part,
:math:`z \le z^*` holds exactly when every part is at its own optimum, so the set of optimal
plans is the product of the parts' sets. (L2) minimises
:math:`\tau = \sum_{f,t} \rho_f \mu_t x_{ft}`, a sum over facilities, over that product: its
minimum is the sum of the parts' minima, and the plan is unique exactly when every part's is.
For this each part carries the *whole* problem's ranks :math:`\rho_f` (``SiteProblem.ranks``):
ranks counted within a part would weigh two of its facilities in another ratio and could
break a tie the other way. (L3)'s distance is a sum over facility-years as well. So where
(L2) leaves one plan (as (L3) certifies), the decomposed plan is the monolithic plan, not just
an equally good one; with ``unique=False`` the two may pick different optimal plans.

A county with no facility (only constant rows: a target of 0, a quota nobody can use) joins
the first component, and so do quota rows of a street that holds no facility.

Parts are solved by :func:`dingdian.run.backends.solve` through :func:`dingdian.run.engine.run_all`: a
local process pool by default, or Dask distributed (``scheduler="local"`` or an address).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from dingdian.models.data import SiteProblem
from dingdian.models.tiebreak import tie_break_ranks
from dingdian.result import FEASIBLE, OPTIMAL, SolveResult
from dingdian.run import backends
from dingdian.run.blocks import STATUS_ORDER, merge_stages
from dingdian.run.engine import describe, run_all


class _UnionFind:
    def __init__(self, items: Iterable[str]):
        self.parent = {i: i for i in items}

    def find(self, i: str) -> str:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, items: Iterable[str]) -> None:
        roots = [self.find(i) for i in items]
        for r in roots[1:]:
            self.parent[self.find(r)] = self.find(roots[0])


def components(problem: SiteProblem) -> list[tuple[str, ...]]:
    """The groups of coupled counties (see the module docstring), each sorted by name; the
    groups in the order of their first county. A single group means the problem does not split.
    """
    county_of = {f.id: f.county for f in problem.facilities}
    counties = sorted({*problem.counties, *(cv.county for cv in problem.cover),
                       *(q.area for q in problem.quotas if q.level == "county")})
    uf = _UnionFind(counties)
    for cv in problem.cover:
        uf.union([cv.county, *(county_of[fid] for fid in cv.facilities)])
    for cr in problem.crowd:
        uf.union(county_of[fid] for fid in cr.facilities)
    for near in problem.near:
        uf.union([county_of[near.facility], *(county_of[g] for g in near.others)])
    for f in problem.facilities:
        if f.moves_from:
            uf.union([f.county, county_of[f.moves_from]])
    groups: dict[str, list[str]] = {}
    for county in counties:
        groups.setdefault(uf.find(county), []).append(county)
    with_facilities = set(county_of.values())
    out = [tuple(sorted(g)) for g in groups.values() if with_facilities & set(g)]
    empty = sorted(c for g in groups.values() if not with_facilities & set(g) for c in g)
    if not out:
        return [tuple(counties)]
    out.sort()
    out[0] = tuple(sorted((*out[0], *empty)))
    return out


def split(problem: SiteProblem, groups: list[tuple[str, ...]] | None = None) -> list[SiteProblem]:
    """One sub-problem per group of counties (default: :func:`components`), each holding the
    group's facilities, targets, quotas, cells and rules (``dataclasses.replace`` on the frozen
    problem; the order of every table is kept)."""
    groups = components(problem) if groups is None else groups
    part_of = {c: i for i, g in enumerate(groups) for c in g}
    county_of = {f.id: f.county for f in problem.facilities}
    street_county = {f.street: f.county for f in problem.facilities if f.street}

    def quota_part(q) -> int:
        county = q.area if q.level == "county" else street_county.get(q.area)
        return part_of.get(county, 0)

    _check_groups(problem, part_of)
    ranks = tie_break_ranks(problem)
    n = len(groups)

    def by_part(rows, part) -> list[tuple]:
        """``rows`` bucketed by part in one pass, each bucket in the rows' order."""
        buckets: list[list] = [[] for _ in range(n)]
        for row in rows:
            i = part(row)
            if i is not None:
                buckets[i].append(row)
        return [tuple(b) for b in buckets]

    facilities = by_part(problem.facilities, lambda f: part_of[f.county])
    targets = by_part(problem.targets, lambda t: part_of[t.county])
    quotas = by_part(problem.quotas, quota_part)
    cover = by_part(problem.cover, lambda c: part_of[c.county])
    crowd = by_part(problem.crowd, lambda c: part_of[county_of[c.facilities[0]]])
    near = by_part(problem.near, lambda x: part_of[county_of[x.facility]])
    # the allocation rules (13)–(15) are per county: each part keeps its counties' rows
    zones = by_part(problem.zone_budget, lambda z: part_of.get(z.county))
    roles = by_part(problem.roles, lambda r: part_of.get(r.county))
    exits = by_part(problem.exit_plan, lambda x: part_of.get(x.county))
    return [
        dataclasses.replace(
            problem,
            facilities=facilities[i],
            ranks=tuple((f.id, ranks[f.id]) for f in facilities[i]),
            targets=targets[i], quotas=quotas[i], cover=cover[i], crowd=crowd[i], near=near[i],
            zone_budget=zones[i], roles=roles[i], exit_plan=exits[i],
        )
        for i in range(n)
    ]


def _check_groups(problem: SiteProblem, part_of: dict[str, int]) -> None:
    """Every row's facilities lie in one group (given groups may be wrong): else ValueError."""
    county_of = {f.id: f.county for f in problem.facilities}
    missing = sorted({f.county for f in problem.facilities} - set(part_of))
    if missing:
        raise ValueError(f"county {missing[0]} is in no group")
    rows = [(f"cell {c.cell}", [*c.facilities]) for c in problem.cover]
    rows += [(f"cell {c.cell}", [*c.facilities]) for c in problem.crowd]
    rows += [(f"the 800 m rule of {n.facility}", [n.facility, *n.others]) for n in problem.near]
    rows += [(f"the move of {f.id}", [f.id, f.moves_from]) for f in problem.facilities
             if f.moves_from]
    for what, ids in rows:
        counties = sorted({county_of[i] for i in ids})
        if len({part_of[c] for c in counties}) > 1:
            raise ValueError(f"{what} couples {' and '.join(counties)}: they must be in one group")


@dataclass(frozen=True)
class Decomposed:
    """A decomposed solve: the merged result, each part's counties and result, and how it ran."""

    result: SolveResult
    parts: tuple[tuple[tuple[str, ...], SolveResult], ...]
    engine: str
    workers: int
    wall_seconds: float

    def summary(self) -> dict:
        """The ``decomposition`` section of summary.json."""
        r = self.result
        return {
            "parts": len(self.parts), "engine": self.engine, "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
            "summed_seconds": round(r.build_seconds + r.solve_seconds, 3),
            "components": [
                {"counties": list(counties), "status": p.status, "objective": p.objective,
                 "bound": p.bound, "variables": p.n_variables, "constraints": p.n_constraints,
                 "build_seconds": round(p.build_seconds, 3),
                 "solve_seconds": round(p.solve_seconds, 3)}
                for counties, p in self.parts
            ],
        }


def _solve_part(task: tuple) -> SolveResult:
    """One part, in a worker: ``(problem, backend, time_limit, kwargs)``."""
    problem, backend, time_limit, kwargs = task
    # one process a part: the parts are the parallel work (no block workers inside)
    return backends.solve(problem, backend=backend, time_limit=time_limit, workers=1, **kwargs)


def merge(problem: SiteProblem, results: list[SolveResult]) -> SolveResult:
    """One :class:`SolveResult` for the whole problem from its parts (module docstring)."""
    status = min((r.status for r in results), key=STATUS_ORDER.index)

    def total(values):
        values = list(values)
        return None if any(v is None for v in values) else float(sum(values))

    objective = total(r.objective for r in results) if status in (OPTIMAL, FEASIBLE) else None
    bound = total(r.bound for r in results)
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(1.0, abs(objective))
    designated = None
    if all(r.has_plan for r in results):
        designated = pd.concat([r.designated for r in results])
        designated = designated.loc[[f.id for f in problem.facilities]]
    terms: dict[str, float] = {}
    for r in results:
        for name, value in r.objective_terms.items():
            terms[name] = terms.get(name, 0.0) + value
    messages = list(dict.fromkeys(r.message for r in results if r.message))
    uniques = [r.unique for r in results]
    unique = None if None in uniques else all(uniques)
    choices: dict[str, tuple] = {}  # the allocation rules' choices, each list sorted as one
    for r in results:
        for name, rows in r.choices.items():
            choices[name] = tuple(sorted((*choices.get(name, ()), *rows)))
    return SolveResult(
        backend=results[0].backend,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        build_seconds=sum(r.build_seconds for r in results),
        solve_seconds=sum(r.solve_seconds for r in results),
        n_variables=sum(r.n_variables for r in results),
        n_constraints=sum(r.n_constraints for r in results),
        designated=designated,
        objective_terms=terms if designated is not None else {},
        message="; ".join(messages),
        stages=merge_stages([r.stages for r in results]),
        unique=unique,
        choices=choices if designated is not None else {},
    )


def solve_parts(problem: SiteProblem, backend: str = "highs", time_limit: float | None = None,
                *, workers: int | None = None, scheduler: str | None = None,
                progress=None, **kwargs) -> Decomposed:
    """Split ``problem`` into its independent parts, solve them in parallel and merge.

    ``time_limit`` applies to each part. ``kwargs`` go to :func:`dingdian.run.backends.solve`
    unchanged. ``workers``/``scheduler`` choose the engine (:func:`dingdian.run.engine.run_all`).
    """
    if backend not in backends.BACKENDS:
        raise backends.BackendError(
            f"unknown solver '{backend}': choose one of {', '.join(backends.BACKENDS)}")
    say = progress or (lambda _msg: None)
    groups = components(problem)
    engine, n = describe(scheduler, workers, len(groups))
    say(f"decomposed into {_parts(len(groups))}; solving with {backend} on {engine}"
        + (f" ({n} workers)" if n > 1 else ""))
    t0 = time.perf_counter()
    tasks = [(sub, backend, time_limit, kwargs) for sub in split(problem, groups)]
    results = run_all(_solve_part, tasks, workers=workers, scheduler=scheduler)
    wall = time.perf_counter() - t0
    return Decomposed(result=merge(problem, results), parts=tuple(zip(groups, results, strict=True)),
                      engine=engine, workers=n, wall_seconds=wall)


def _parts(n: int) -> str:
    return f"{n} independent part" + ("" if n == 1 else "s")


def solve_decomposed(problem: SiteProblem, backend: str = "highs",
                     time_limit: float | None = None, **kwargs) -> SolveResult:
    """:func:`solve_parts`'s merged result: a drop-in for :func:`dingdian.run.backends.solve`."""
    return solve_parts(problem, backend, time_limit, **kwargs).result
