r"""The yearly bed-reduction model (张掖 四(一)1, 五(二)1(1), 表4/表5): one PuLP formulation.

Built once from a frozen :class:`BedProblem` and solved by any backend of
:mod:`dingdian.run.backends` (``run_backend`` only needs the ``lp`` attribute). Each family is one
``define_*`` function; the number below is the prefix of its constraint names (``c1_flow_…``).
It is solved twice by the same backend: (L1) the objective (7), then (L2) the tie-break (8) on
a copy that holds (L1)'s optimum, so that every backend returns the same plan.

Sets and data
-------------
:math:`H` hospitals, :math:`H_c` those of county :math:`c`, :math:`H_l` those of level :math:`l`
(三级, 二级, 一级及未定级); :math:`T=(t_1..t_n)` the planning years, :math:`t_0` the base year.
:math:`B_h` beds at the end of :math:`t_0`; :math:`o_h` occupancy in ‰ (an integer: CP-SAT
needs integer costs); :math:`f_h` the floor (最低床位); :math:`N_c` the county's planned beds in
:math:`t_n` (表4), :math:`M_l` the level's (表5). :math:`R_c=\max(0,\sum_{H_c}B_h-N_c)` the
county's reduction, :math:`G_c=\max(0,N_c-\sum_{H_c}B_h)` its growth (高台县 +20); :math:`s`
the spread slack; :math:`K` the hospitals allowed to convert beds to nursing beds;
:math:`Q_c` an optional cap on the county's nursing conversions.

Variables (integer, non-negative)
---------------------------------
:math:`b_{ht}` beds at the end of :math:`t`; :math:`c_{ht}` beds cut in :math:`t`;
:math:`a_{ht}` beds added in :math:`t`, only for :math:`h` in a county with :math:`G_c>0`;
:math:`n_c` the county's cut beds converted to nursing beds (转向养老、护理机构床位), only where
:math:`K_c = K\cap H_c` is not empty; :math:`u_c` the county's largest yearly cut. Which of the
cut beds are converted follows from the cuts (8c): the reward is the same for every bed.

Constraints
-----------
(1) flow     :math:`b_{ht} = b_{h,t-1} - c_{ht} + a_{ht}`, :math:`b_{ht_0}=B_h`
(2) county   :math:`\sum_{h\in H_c} b_{ht_n} = N_c` (表4)
(3) level    :math:`\sum_{h\in H_l} b_{ht_n} = M_l` (表5, 3:5:2)
(4) spread   :math:`\sum_{h\in H_c} c_{ht} \le \lceil R_c/n\rceil + s`;
             :math:`\sum_{h\in H_c} a_{ht} \le \lceil G_c/n\rceil + s`;
             peak :math:`u_c \ge \sum_{h\in H_c} c_{ht}` for every :math:`t`, and
             :math:`u_c \ge \lceil R_c/n\rceil` as the variable's lower bound (implied: a
             county that shrinks has no :math:`a`, so it cuts exactly :math:`R_c` in :math:`n`
             years; it closes the LP's gap, and HiGHS proves (L1) about 3× faster)
(5) floor    :math:`b_{ht} \ge f_h` (e.g. 50 % of :math:`B_h`)
(6) nursing  :math:`n_c \le \sum_{h\in K_c,t} c_{ht}`; capacity :math:`n_c \le Q_c` (the same
             plans as one :math:`n_{ht} \le c_{ht}` per hospital and year, with
             :math:`n_c = \sum n_{ht}`: any :math:`n_c` within the cuts can be split so)

Objective (minimise, integer coefficients)
------------------------------------------
.. math::

   \min \sum_{h,t} o_h c_{ht} + \sum_{h,t} \max(0, 1000-o_h)\, a_{ht}
        - w_n \sum_c n_c + w_s \sum_c u_c

Cuts go first where occupancy is lowest (cost = occupancy × beds cut), growth where it is
highest; converting a cut bed to a nursing bed earns :math:`w_n` (default 1, one step of
occupancy: it never makes a cut at a busier hospital better, at 1 ‰ busier it ties, and (8)
decides); :math:`w_s` (default 1) spreads each county's cut evenly over the years. With
:math:`s=0` and no growth, a county cuts exactly :math:`R_c` in total and at most
:math:`\lceil R_c/n\rceil` a year.

(2) and (3) can only hold together if :math:`\sum_c N_c = \sum_l M_l` (both 9,856 in Zhangye)
and the county × level cells admit a path within the floors; otherwise the model is infeasible.

Tie-break (8), stage L2
-----------------------
(7) prices where beds are cut, not when: every schedule within the yearly limits (4) costs the
same, and two exchanges of cuts whose occupancies differ alike (甘州区 798 ‰ − 519 ‰ = 民乐县
929 ‰ − 650 ‰) tie as well. Each backend returned another plan (178 of the 749 rows of
Zhangye's ``beds.csv`` differed). With :math:`z^*` the proven optimum of (7) (integer
coefficients, so an integer), on a copy of the model (same variables, own rows and objective):

.. math::

   \min\; \tau = \sum_{h,t} \rho_h\,\mu_t\,(c_{ht} - a_{ht})
   \quad\text{s.t. (1)–(6) and}\quad (7) \le z^* \;(\text{``c8_hold_objective''})

(8a) :math:`\rho_h` is the hospital's place in the order of occupancy, least used first, ties
by id (1, 2, …, :math:`|H|`); :math:`\mu_t = n + 1 - i` for the :math:`i`-th planning year
(2025 weighs 6, 2030 weighs 1), the year-ends :math:`t..t_n` a bed cut in :math:`t` is missing.
So :math:`\tau = \sum_h \rho_h \sum_t (B_h - b_{ht})`: the bed-years the plan takes away, each
weighed by its hospital's occupancy rank; (8) keeps the busier hospitals' beds in service the
longest. (7a) cuts first where occupancy is lowest; (8) reads "first" in time too. This is a
convention: the plan (四(一)1, 五(二)1(1)) fixes the 2030 figures, not the years.
(8b) ``≤`` rather than ``=``: no plan beats the optimum, so the same plans.
(8c) Which cut beds become nursing beds follows from the cuts (:func:`conversions`): in each
county as many as (6) allows, :math:`\min(Q_c, \sum_{K_c,t} c_{ht})` (at an optimum of (7)
with :math:`w_n \ge 1` that is :math:`n_c`), the first cut beds of conversion-allowed
hospitals, year by year and by :math:`\rho` within a year: nursing beds as early as can be.

Why the plan is unique. (i) No hospital both cuts and adds in an optimal plan (with
:math:`w_n < 1000`): an add and the nearest cut of the same hospital cost
:math:`o_h + 1000 - o_h` together, and dropping both keeps (1)–(6) (its beds in between lie
between the two ends, so within its bounds) at a loss of at most :math:`w_n` in (7c). So a
hospital's beds run monotonically, and the floors (5) bind in :math:`t_n` only.
(ii) A plan of (8) is then the totals :math:`X_h=\sum_t c_{ht}`, :math:`Y_h=\sum_t a_{ht}` and
their schedule. With the totals fixed, (7) keeps every schedule whose yearly county cut is at
most :math:`U_c` (:math:`\lceil \sum_{H_c} X_h / n\rceil`, the least peak, as :math:`w_s \ge 1`;
the cap (4) when :math:`w_s = 0`); (6) does not depend on the schedule. Each county's cuts are
then a transportation problem, hospitals × years, every year :math:`U_c`, a dummy row
(:math:`\rho = 0`) taking what is left unused, with cost :math:`\rho_h\mu_t`, strictly Monge:
for rows :math:`\rho < \rho'` and years :math:`t < t'`,
:math:`\rho\mu_t + \rho'\mu_{t'} - \rho\mu_{t'} - \rho'\mu_t = (\rho - \rho')(\mu_t - \mu_{t'}) < 0`.
A τ-optimal schedule has no crossing (row :math:`\rho` cutting in :math:`t'` while row
:math:`\rho' > \rho` cuts in :math:`t < t'`: moving one bed each way lowers τ), and the
schedule without crossing is unique, the north-west corner: the unused capacity in the first
year, then the least-used hospital's cuts from the earliest year on, then the next one's. Adds
(cost :math:`-\rho_h\mu_t`) run the other way: the busiest hospital adds first, as early as the
yearly limit allows. A separable weight (:math:`\rho_h + \mu_t`) would tie all schedules with
the same yearly cuts.
(iii) Conversions (8c) are a rule of the cuts. (iv) The totals :math:`X, Y` are a min-cost flow
(counties → levels, one arc per hospital), and (8) weighs them through the bed-years of (ii):
of two hospitals of one county and level at the same cost per bed in (7), the lower-ranked is
cut as far as it can be before the other is cut at all (moving a cut to it puts a smaller row
into the county's schedule, and τ falls). Two
distributions of the cuts that tie exactly on (7) and on τ would need a coincidence of
occupancies and of ranks together, which no choice of small weights excludes for every data
set; the certificate (9) checks it. On Zhangye, with the file's capacities and with the
nursing plan's (甘州区 265, 民乐县 126), :math:`\delta^* = 0` on every backend: the plan is the
only one.

(9) certificate (optional, :func:`certificate`): with :math:`\tau^*` the optimum of (8) and
:math:`\hat X, \hat Y` its totals, maximise the number of hospitals whose :math:`X_h` or
:math:`Y_h` differs, :math:`\delta = \sum d_h`, subject to (1)–(6), (8) and
:math:`\tau \le \tau^*` (``c9_hold_tiebreak``; per total ``c9_up_…``/``c9_down_…``, a binary
direction :math:`y` and :math:`d \le 1`). By (ii)–(iii), :math:`\delta^* = 0` proves the plan
unique.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import pulp

# :math:`\mu_t` (8a): the first planning year weighs ``n``, the last 1, as in the site model's (L2)
from dingdian.models.tiebreak import year_weights


@dataclass(frozen=True)
class Hospital:
    id: str
    county: str
    level: str
    beds: int
    occupancy: int  # per mille (‰), e.g. 873 for 87.3 %
    floor: int
    nursing_allowed: bool = False
    name: str = ""


@dataclass(frozen=True)
class BedWeights:
    nursing: int = 1  # reward per bed converted to a nursing bed
    spread: int = 1  # cost per bed of a county's largest yearly cut


@dataclass(frozen=True)
class BedProblem:
    hospitals: tuple[Hospital, ...]
    base_year: int
    years: tuple[int, ...]
    county_targets: Mapping[str, int]
    level_targets: Mapping[str, int]
    spread_slack: int = 0
    nursing_capacity: Mapping[str, int] = field(default_factory=dict)
    weights: BedWeights = BedWeights()

    def existing(self, attr: str) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for h in self.hospitals:
            out[getattr(h, attr)] += h.beds
        return dict(out)

    def reduction(self, county: str) -> int:
        return max(0, self.existing("county").get(county, 0) - self.county_targets[county])

    def growth(self, county: str) -> int:
        return max(0, self.county_targets.get(county, 0) - self.existing("county").get(county, 0))

    def cut_cap(self, county: str) -> int:
        return math.ceil(self.reduction(county) / len(self.years)) + self.spread_slack

    def add_cap(self, county: str) -> int:
        return math.ceil(self.growth(county) / len(self.years)) + self.spread_slack

    def least_peak(self, county: str) -> int:
        """:math:`\\lceil R_c/n\\rceil`, the lower bound of :math:`u_c` (4): 0 for a county
        without a planned figure or one that grows."""
        if county not in self.county_targets:
            return 0
        return math.ceil(self.reduction(county) / len(self.years))


@dataclass
class BedModel:
    problem: BedProblem
    lp: pulp.LpProblem
    b: dict[tuple[str, int], pulp.LpVariable | int]
    c: dict[tuple[str, int], pulp.LpVariable]
    a: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    n: dict[str, pulp.LpVariable] = field(default_factory=dict)
    u: dict[str, pulp.LpVariable] = field(default_factory=dict)
    terms: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)


class _Names:
    """ASCII names: hospitals and areas by their index in input order."""

    def __init__(self, p: BedProblem):
        self.h = {h.id: f"h{i}" for i, h in enumerate(p.hospitals)}
        counties = list(p.county_targets) + sorted({h.county for h in p.hospitals}
                                                   - set(p.county_targets))
        self.c = {c: f"c{i}" for i, c in enumerate(counties)}
        levels = list(p.level_targets) + sorted({h.level for h in p.hospitals}
                                                - set(p.level_targets))
        self.lv = {lv: f"l{i}" for i, lv in enumerate(levels)}


def build_bed_model(problem: BedProblem) -> BedModel:
    """Build the one bed model of this module (see its docstring for the maths)."""
    if not problem.years:
        raise ValueError("at least one planning year is needed")
    lp = pulp.LpProblem("dingdian_beds", pulp.LpMinimize)
    names = _Names(problem)
    model = define_variables(problem, lp, names)
    define_flow(model, names)
    define_county_totals(model, names)
    define_level_totals(model, names)
    define_spread(model, names)
    define_floor(model, names)
    define_nursing(model, names)
    define_objective(model)
    return model


def define_variables(p: BedProblem, lp: pulp.LpProblem, names: _Names) -> BedModel:
    """b, c per hospital and year; a where the county grows; n, u per county."""
    grow = {c for c in p.county_targets if p.growth(c) > 0}
    horizon = len(p.years)
    b: dict = {}
    c: dict = {}
    a: dict = {}
    for h in p.hospitals:
        k = names.h[h.id]
        room = (p.growth(h.county) + p.spread_slack * horizon) if h.county in grow else 0
        b[h.id, p.base_year] = h.beds
        for t in p.years:
            b[h.id, t] = lp.add_variable(f"b_{k}_{t}", lowBound=0, upBound=h.beds + room,
                                         cat=pulp.LpInteger)
            c[h.id, t] = lp.add_variable(f"c_{k}_{t}", lowBound=0, upBound=h.beds + room,
                                         cat=pulp.LpInteger)
            if h.county in grow:
                a[h.id, t] = lp.add_variable(f"a_{k}_{t}", lowBound=0, upBound=room,
                                             cat=pulp.LpInteger)
    model = BedModel(problem=p, lp=lp, b=b, c=c, a=a)
    total = sum(x.beds for x in p.hospitals)
    for county, tag in names.c.items():
        if any(h.county == county for h in p.hospitals):
            model.u[county] = lp.add_variable(f"u_{tag}", lowBound=p.least_peak(county),
                                              upBound=total + 1, cat=pulp.LpInteger)
        if any(h.county == county and h.nursing_allowed for h in p.hospitals):
            model.n[county] = lp.add_variable(f"n_{tag}", lowBound=0, upBound=total,
                                              cat=pulp.LpInteger)
    return model


def define_flow(model: BedModel, names: _Names) -> None:
    """(1) b[h,t] = b[h,t−1] − c[h,t] + a[h,t]."""
    p = model.problem
    prev_years = (p.base_year, *p.years[:-1])
    for h in p.hospitals:
        for prev, t in zip(prev_years, p.years, strict=True):
            expr = model.b[h.id, t] - model.b[h.id, prev] + model.c[h.id, t]
            if (h.id, t) in model.a:
                expr -= model.a[h.id, t]
            model.lp += (expr == 0, f"c1_flow_{names.h[h.id]}_{t}")


def _by(p: BedProblem, attr: str) -> dict[str, list[Hospital]]:
    out: dict[str, list[Hospital]] = defaultdict(list)
    for h in p.hospitals:
        out[getattr(h, attr)].append(h)
    return out


def _total_row(model: BedModel, name: str, hospitals: list[Hospital], rhs: int) -> None:
    last = model.problem.years[-1]
    expr = pulp.lpSum(model.b[h.id, last] for h in hospitals)
    if not hospitals:  # nothing can meet a positive figure: keep an impossible row
        expr = pulp.LpAffineExpression(constant=0)
        if rhs == 0:
            return
    model.lp += (expr == rhs, name)


def define_county_totals(model: BedModel, names: _Names) -> None:
    """(2) each county's beds at the end of the last year equal its planned figure (表4)."""
    groups = _by(model.problem, "county")
    for county, rhs in model.problem.county_targets.items():
        _total_row(model, f"c2_county_{names.c[county]}", groups.get(county, []), int(rhs))


def define_level_totals(model: BedModel, names: _Names) -> None:
    """(3) each level's beds at the end of the last year equal its planned figure (表5)."""
    groups = _by(model.problem, "level")
    for level, rhs in model.problem.level_targets.items():
        _total_row(model, f"c3_level_{names.lv[level]}", groups.get(level, []), int(rhs))


def define_spread(model: BedModel, names: _Names) -> None:
    """(4) yearly cut (growth) per county at most ⌈R_c/n⌉ + s (⌈G_c/n⌉ + s); peak u_c."""
    p = model.problem
    for county, hs in _by(p, "county").items():
        tag = names.c[county]
        cut_cap = p.cut_cap(county) if county in p.county_targets else p.spread_slack
        for t in p.years:
            cuts = pulp.lpSum(model.c[h.id, t] for h in hs)
            model.lp += (cuts <= cut_cap, f"c4_cut_{tag}_{t}")
            adds = [model.a[h.id, t] for h in hs if (h.id, t) in model.a]
            if adds:
                model.lp += (pulp.lpSum(adds) <= p.add_cap(county), f"c4_add_{tag}_{t}")
            model.lp += (model.u[county] - cuts >= 0, f"c4_peak_{tag}_{t}")


def define_floor(model: BedModel, names: _Names) -> None:
    """(5) a hospital never goes below its floor."""
    p = model.problem
    for h in p.hospitals:
        for t in p.years:
            model.lp += (model.b[h.id, t] >= h.floor, f"c5_floor_{names.h[h.id]}_{t}")


def define_nursing(model: BedModel, names: _Names) -> None:
    """(6) a county converts no more than its conversion-allowed hospitals cut; optional
    county capacity."""
    p = model.problem
    allowed = {h.id: h.county for h in p.hospitals if h.nursing_allowed}
    for county, n in model.n.items():
        cuts = [v for (hid, _t), v in model.c.items() if allowed.get(hid) == county]
        model.lp += (n - pulp.lpSum(cuts) <= 0, f"c6_nursing_{names.c[county]}")
        if county in p.nursing_capacity:
            model.lp += (n <= int(p.nursing_capacity[county]),
                         f"c6_capacity_{names.c[county]}")


def define_objective(model: BedModel) -> None:
    """(7) occupancy-weighted cuts and growth, nursing reward, spread."""
    p = model.problem
    occ = {h.id: h.occupancy for h in p.hospitals}
    w = p.weights
    model.terms = {
        "7a_cut_occupancy": pulp.lpSum(occ[hid] * v for (hid, _t), v in model.c.items()),
        "7b_add_vacancy": pulp.lpSum(max(0, 1000 - occ[hid]) * v
                                     for (hid, _t), v in model.a.items()),
        "7c_nursing": pulp.lpSum(-w.nursing * v for v in model.n.values()),
        "7d_spread": pulp.lpSum(w.spread * v for v in model.u.values()),
    }
    model.lp += pulp.lpSum(model.terms.values())


def _value(expr, values: Mapping[str, float]) -> float:
    """A variable's or an expression's value, from values by variable name."""
    if isinstance(expr, int):
        return float(expr)
    if isinstance(expr, pulp.LpVariable):
        return values.get(expr.name, 0.0)
    return expr.constant + sum(a * values.get(v.name, 0.0) for v, a in expr.items())


def optimum(model: BedModel, values: Mapping[str, float]) -> int:
    """:math:`z^*`: the value of (7) in ``values``, an integer (integer coefficients)."""
    return math.floor(_value(model.lp.objective, values) + 0.5)


def tie_break_ranks(p: BedProblem) -> dict[str, int]:
    """:math:`\\rho_h` (8a): 1 for the least-used hospital, ties by id."""
    order = sorted(p.hospitals, key=lambda h: (h.occupancy, h.id))
    return {h.id: i for i, h in enumerate(order, start=1)}


def tie_break_expression(model: BedModel) -> pulp.LpAffineExpression:
    """:math:`\\tau` of (8): rank-weighted bed-years taken away, Σ ρ_h μ_t (c_ht − a_ht)."""
    p = model.problem
    rho, mu = tie_break_ranks(p), year_weights(p)
    terms = [(v, rho[h] * mu[t]) for (h, t), v in model.c.items()]
    terms += [(v, -rho[h] * mu[t]) for (h, t), v in model.a.items()]
    return pulp.LpAffineExpression(terms)


def tie_break(model: BedModel, z_star: int) -> BedModel:
    """(8): a copy of ``model`` (same variables, own rows and objective) that holds (7) at its
    optimum ``z_star`` and minimises τ."""
    staged = dataclasses.replace(model, lp=model.lp.copy())
    staged.lp += (model.lp.objective <= int(z_star), "c8_hold_objective")
    staged.lp.setObjective(tie_break_expression(model))
    return staged


def conversions(model: BedModel, values: Mapping[str, float]) -> dict[tuple[str, int], int]:
    """(8c) per hospital and year: in each county as many cut beds as (6) allows, the first
    cut beds of conversion-allowed hospitals, year by year and by ρ within a year."""
    p = model.problem
    rho = tie_break_ranks(p)
    left = {c: p.nursing_capacity.get(c) for c in model.n}
    allowed = sorted((h for h in p.hospitals if h.nursing_allowed), key=lambda h: rho[h.id])
    out: dict[tuple[str, int], int] = {}
    for t in p.years:
        for h in allowed:
            take = round(_value(model.c[h.id, t], values))
            if left[h.county] is not None:
                take = min(take, left[h.county])
                left[h.county] -= take
            out[h.id, t] = take
    return out


def settle_conversions(model: BedModel, values: Mapping[str, float]) -> dict[str, float]:
    """``values`` with each :math:`n_c` set to what (8c) converts, the most (6) allows: the
    same value at an optimum of (7) when :math:`w_n \\ge 1`, none worse otherwise."""
    out = dict(values)
    county = {h.id: h.county for h in model.problem.hospitals}
    total: dict[str, int] = defaultdict(int)
    for (hid, _t), v in conversions(model, values).items():
        total[county[hid]] += v
    for c, var in model.n.items():
        out[var.name] = float(total[c])
    return out


def _totals(model: BedModel) -> list[tuple[str, pulp.LpAffineExpression, int]]:
    """Per hospital its cut total and, where it may grow, its add total (name, expression,
    upper bound)."""
    p, names = model.problem, _Names(model.problem)
    out = []
    for kind, var in (("cut", model.c), ("add", model.a)):
        for h in p.hospitals:
            vs = [var[h.id, t] for t in p.years if (h.id, t) in var]
            if vs:
                out.append((f"{kind}_{names.h[h.id]}", pulp.lpSum(vs),
                            int(sum(v.upBound for v in vs))))
    return out


def certificate(model: BedModel, values: Mapping[str, float], z_star: int,
                tau_star: int) -> BedModel:
    """(9): a copy of ``model`` that holds (7) at ``z_star`` and τ at ``tau_star`` and
    minimises :math:`-\\delta`, minus the number of hospitals whose cut or add total differs
    from ``values``: an optimum of 0 proves the plan of (8) unique."""
    staged = tie_break(model, z_star)
    lp = staged.lp
    lp += (tie_break_expression(model) <= int(tau_star), "c9_hold_tiebreak")
    moved = []
    for tag, expr, top in _totals(model):
        done = round(_value(expr, values))
        d = lp.add_variable(f"d9_{tag}", lowBound=0, upBound=1, cat=pulp.LpInteger)
        if done == 0:  # it can only rise
            lp += (expr - d >= 0, f"c9_up_{tag}")
        else:
            y = lp.add_variable(f"y9_{tag}", lowBound=0, upBound=1, cat=pulp.LpInteger)
            lp += (expr - d - (done + 1) * y >= -1, f"c9_up_{tag}")  # y = 1: ≥ done + d
            lp += (expr + d - (top - done + 1) * y <= done, f"c9_down_{tag}")  # y = 0: ≤ done − d
        moved.append(d)
    lp.setObjective(-pulp.lpSum(moved))
    return staged


def differing(model: BedModel, values: Mapping[str, float]) -> list[str]:
    """The totals a solved certificate (9) found free to differ, ``"cut <hospital id>"`` or
    ``"add <hospital id>"`` ([] : the plan is unique)."""
    ids = {tag: hid for hid, tag in _Names(model.problem).h.items()}
    out = []
    for tag, _expr, _top in _totals(model):
        if values.get(f"d9_{tag}", 0.0) > 0.5:
            kind, h = tag.split("_", 1)
            out.append(f"{kind} {ids[h]}")
    return out


def plan_frame(model: BedModel, values: Mapping[str, float]) -> pd.DataFrame:
    """The solved plan, one row per hospital and year (base year included): ``county,
    hospital_id, name, level, year, beds, cut, added, to_nursing, occupancy, floor,
    nursing_allowed`` (occupancy as a fraction)."""
    p = model.problem

    def val(v) -> int:
        if v is None:
            return 0
        if isinstance(v, int):
            return v
        return int(round(values.get(v.name, 0.0)))

    converted = conversions(model, values)
    rows = []
    for h in p.hospitals:
        for t in (p.base_year, *p.years):
            rows.append({
                "county": h.county, "hospital_id": h.id, "name": h.name, "level": h.level,
                "year": t, "beds": val(model.b[h.id, t]), "cut": val(model.c.get((h.id, t))),
                "added": val(model.a.get((h.id, t))), "to_nursing": converted.get((h.id, t), 0),
                "occupancy": h.occupancy / 1000.0, "floor": h.floor,
                "nursing_allowed": int(h.nursing_allowed),
            })
    return pd.DataFrame(rows)
