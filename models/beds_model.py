r"""The yearly bed-reduction model (张掖 四(一)1, 五(二)1(1), 表4/表5): one PuLP formulation.

Built once from a frozen :class:`BedProblem` and solved by any backend of
:mod:`dingdian.run.backends` (``run_backend`` only needs the ``lp`` attribute). Each family is one
``define_*`` function; the number below is the prefix of its constraint names (``c1_flow_…``).

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
:math:`n_{ht}` cut beds converted to nursing beds (转向养老、护理机构床位), only :math:`h\in K`;
:math:`u_c` the county's largest yearly cut.

Constraints
-----------
(1) flow     :math:`b_{ht} = b_{h,t-1} - c_{ht} + a_{ht}`, :math:`b_{ht_0}=B_h`
(2) county   :math:`\sum_{h\in H_c} b_{ht_n} = N_c` (表4)
(3) level    :math:`\sum_{h\in H_l} b_{ht_n} = M_l` (表5, 3:5:2)
(4) spread   :math:`\sum_{h\in H_c} c_{ht} \le \lceil R_c/n\rceil + s`;
             :math:`\sum_{h\in H_c} a_{ht} \le \lceil G_c/n\rceil + s`;
             peak :math:`u_c \ge \sum_{h\in H_c} c_{ht}` for every :math:`t`
(5) floor    :math:`b_{ht} \ge f_h` (e.g. 50 % of :math:`B_h`)
(6) nursing  :math:`n_{ht} \le c_{ht}` (:math:`h\in K`); capacity :math:`\sum_{H_c,t} n_{ht}\le Q_c`

Objective (minimise, integer coefficients)
------------------------------------------
.. math::

   \min \sum_{h,t} o_h c_{ht} + \sum_{h,t} \max(0, 1000-o_h)\, a_{ht}
        - w_n \sum_{h,t} n_{ht} + w_s \sum_c u_c

Cuts go first where occupancy is lowest (cost = occupancy × beds cut), growth where it is
highest; converting a cut bed to a nursing bed earns :math:`w_n` (default 1, far below any
occupancy difference, so it never changes where beds are cut); :math:`w_s` (default 1) spreads
each county's cut evenly over the years. With :math:`s=0` and no growth, a county cuts exactly
:math:`R_c` in total and at most :math:`\lceil R_c/n\rceil` a year.

(2) and (3) can only hold together if :math:`\sum_c N_c = \sum_l M_l` (both 9,856 in Zhangye)
and the county × level cells admit a path within the floors; otherwise the model is infeasible.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import pulp


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


@dataclass
class BedModel:
    problem: BedProblem
    lp: pulp.LpProblem
    b: dict[tuple[str, int], pulp.LpVariable | int]
    c: dict[tuple[str, int], pulp.LpVariable]
    a: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    n: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
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
    """b, c per hospital and year; a where the county grows; n where conversion is allowed."""
    grow = {c for c in p.county_targets if p.growth(c) > 0}
    horizon = len(p.years)
    b: dict = {}
    c: dict = {}
    a: dict = {}
    n: dict = {}
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
            if h.nursing_allowed:
                n[h.id, t] = lp.add_variable(f"n_{k}_{t}", lowBound=0, upBound=h.beds + room,
                                             cat=pulp.LpInteger)
    model = BedModel(problem=p, lp=lp, b=b, c=c, a=a, n=n)
    for county, tag in names.c.items():
        if any(h.county == county for h in p.hospitals):
            model.u[county] = lp.add_variable(f"u_{tag}", lowBound=0,
                                              upBound=sum(x.beds for x in p.hospitals) + 1,
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
    """(6) converted beds come from the year's cut; optional county capacity."""
    p = model.problem
    for (hid, t), n in model.n.items():
        model.lp += (n - model.c[hid, t] <= 0, f"c6_nursing_{names.h[hid]}_{t}")
    county_of = {h.id: h.county for h in p.hospitals}
    for county, cap in p.nursing_capacity.items():
        ns = [v for (hid, _t), v in model.n.items() if county_of[hid] == county]
        if ns:
            model.lp += (pulp.lpSum(ns) <= int(cap), f"c6_capacity_{names.c.get(county, county)}")


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

    rows = []
    for h in p.hospitals:
        for t in (p.base_year, *p.years):
            rows.append({
                "county": h.county, "hospital_id": h.id, "name": h.name, "level": h.level,
                "year": t, "beds": val(model.b[h.id, t]), "cut": val(model.c.get((h.id, t))),
                "added": val(model.a.get((h.id, t))), "to_nursing": val(model.n.get((h.id, t))),
                "occupancy": h.occupancy / 1000.0, "floor": h.floor,
                "nursing_allowed": int(h.nursing_allowed),
            })
    return pd.DataFrame(rows)
