r"""A unique plan: lexicographic stages after the site model's optimum.

The site model (:mod:`dingdian.models.site`) often has several optimal plans: two applicants of the same
review score in one county, or an admitted pharmacy that must exit again (肃南县, 表7) in 2025
or in 2026 at the same cost. A bureau must be able to answer "why mine and not the one next
door?", and every backend must hand back the same plan. So the optimum is refined in stages,
each solved by the same backend on the same PuLP model:

(L1) hold the objective at its optimum. With :math:`z^*` the proven optimum of (8) (integer
     weights, so an integer),

     .. math:: \text{objective}(8) \le z^*            \qquad\text{constraint ``L1_objective``}

     (no plan does better than the optimum, so ``=`` would hold the same plans; measured on
     Zhangye, HiGHS finds no plan in 300 s with ``=`` and proves (L2) in 17 s with ``≤``)

(L2) break ties by score, then by id. Rank the facilities by (score descending, id ascending),
     :math:`\rho_f = 1, 2, \dots` — the best-scored facility first; weight the planning years
     :math:`t_1 … t_n` by :math:`\mu_{t_i} = n + 1 - i` (2025 weighs 6, 2030 weighs 1) and

     .. math:: \min\; \tau(x) = \sum_{f, t} \rho_f\, \mu_t\, x_{ft}
               \qquad\text{subject to (1)–(12) and (L1)}

     Among equally good plans, a designation-year of a worse-ranked facility costs more, and
     more in an early year. So the lower-scored facility exits
     first (末位淘汰), the better-reviewed applicant is admitted first, and when an admitted
     pharmacy must exit again the better one stays the earlier year. The allocation rules'
     choices (:mod:`dingdian.models.allocation`: role holders :math:`r_{fkt}`, special-zone overrides
     :math:`o_{ft}`) get the same weights :math:`\rho_f\mu_t`, so the better-ranked pharmacy
     holds a role and ties among them are broken too. The weight is not separable
     into a facility part plus a year part (:math:`\rho_f\mu_t`), so swapping the years of two
     facilities of different ranks changes :math:`\tau`; a separable weight would tie.

(L3) certify (optional, ``certify=True``): with :math:`\tau^*` the optimum of (L2) and
     :math:`\hat x` its plan, maximise the Hamming distance to :math:`\hat x`

     .. math:: \max\; \delta(x) = \sum_{\hat x_{ft}=1} (1 - x_{ft}) + \sum_{\hat x_{ft}=0} x_{ft}
               \qquad\text{subject to (1)–(12), (L1) and } \tau(x) \le \tau^*
               \quad\text{(``L2_tiebreak``)}

     :math:`\delta^* = 0` proves the plan unique: no other plan is as good on (8) and on (L2).
     :math:`\delta^* > 0` names the facility-years that could differ (a tie that (L2)'s
     weights did not break).

Every term is an integer, so an absolute gap below 1 proves each stage optimal on every
backend. The auxiliary variables (covered gain cells, crowding excess, the busiest year) are
fixed by :math:`x` at any plan meeting (L1), so a unique :math:`x` is a unique plan.
"""

from __future__ import annotations

import math

import pulp

from dingdian.models.data import SiteProblem
from dingdian.models.site_core import SiteModel


def tie_break_ranks(problem: SiteProblem) -> dict[str, int]:
    """:math:`\\rho_f`: 1 for the best score, ties by id (ascending); the problem's own
    ``ranks`` when it carries them (a part of a decomposed problem, :mod:`dingdian.run.decompose`)."""
    if problem.ranks:
        return dict(problem.ranks)
    order = sorted(problem.facilities, key=lambda f: (-f.score, f.id))
    return {f.id: i for i, f in enumerate(order, start=1)}


def year_weights(problem: SiteProblem) -> dict[int, int]:
    """:math:`\\mu_t`: the first planning year weighs ``n``, the last 1."""
    n = len(problem.years)
    return {t: n - i for i, t in enumerate(problem.years)}


def tie_break_expression(model: SiteModel) -> pulp.LpAffineExpression:
    """:math:`\\tau(x)` of (L2); designations fixed by the data (constants) are left out."""
    p = model.problem
    rank, mu = tie_break_ranks(p), year_weights(p)
    terms = [(model.x[f.id, t], rank[f.id] * mu[t]) for f in p.facilities for t in p.years
             if not isinstance(model.x[f.id, t], int)]
    # the allocation rules' own choices (dingdian.models.allocation): who holds a role, who is admitted
    # on a special-zone override — the same order, so they are unique too
    terms += [(v, rank[fid] * mu[t]) for (fid, t), v in model.overrides.items()]
    terms += [(v, rank[fid] * mu[t]) for (_role, fid, t), v in model.roles.items()]
    return pulp.LpAffineExpression(terms)


def hold_objective(model: SiteModel, objective: pulp.LpAffineExpression, optimum: float) -> None:
    """(L1): ``objective <= optimum`` (rounded to the integer it is)."""
    model.lp += (objective <= math.floor(optimum + 0.5), "L1_objective")


def hold_tie_break(model: SiteModel, tie_break: pulp.LpAffineExpression, optimum: float) -> None:
    """The bound of (L3) on (L2): ``tau <= tau*``."""
    model.lp += (tie_break <= math.floor(optimum + 0.5), "L2_tiebreak")


def distance_expression(model: SiteModel, plan: dict[tuple[str, int], int]):
    r""":math:`\delta(x)` of (L3) as ``(expression, ones)`` with ``delta = ones + expression``.

    ``ones`` is the number of facility-years designated in ``plan`` (a constant, kept out of the
    expression because solvers report objectives without constants differently);
    ``expression`` = :math:`\sum_{\hat x=0} x_{ft} - \sum_{\hat x=1} x_{ft}`.
    """
    terms, ones = [], 0
    for key, value in plan.items():
        var = model.x[key]
        if isinstance(var, int):
            continue
        ones += bool(value)
        terms.append((var, -1 if value else 1))
    return pulp.LpAffineExpression(terms), ones
