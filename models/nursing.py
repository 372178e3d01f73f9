r"""Long-term-care institutions (定点护理机构, plan section 四(三)): home care and institution care.

Home care (居家照护型, 四(三)1) is one covering model, built once with PuLP from a frozen
:class:`HomeCareProblem` and solved by any backend of :mod:`dingdian.run.backends` (the runners only
use ``model.lp``). Each constraint family is one ``define_*`` function; the number in its name
is the number below and the prefix of every constraint name it creates (``c2_capacity_…``).
The model decides the network of the last planning year (which sites, whom each serves); the
yearly opening schedule (6) follows from it exactly. It is solved twice by the same backend:
(L1) the objective (5), then (L2) the tie-break (8) on a copy that holds (L1)'s optimum, so
that every backend returns the same plan. Institution care (机构照护型, 四(三)2) is a small pure
rule, :func:`plan_institution_beds`.

Sets and data (home care)
-------------------------
* :math:`I` cells with elderly (60+) residents :math:`e_i > 0` and at least one candidate
  within reach; :math:`J` candidate sites; :math:`J_i \subseteq J` the candidates at distance
  :math:`d_{ij} \le` the cell's radius (urban 1,060.82 m = 15 minutes' walk, rural 2,121.64 m
  = 30 minutes, as the site model), :math:`d_{ij}` in whole metres. Cells no candidate reaches
  are not in :math:`I`: they are reported as uncovered and never make the model infeasible.
* :math:`T = (t_1,\dots,t_n)` planning years (2025…2030); :math:`K_t` the yearly opening cap
  ("根据实际需求分年度实施"), :math:`B` an optional total budget of sites.
* :math:`E` elderly per site (2,000, 四(三)1), :math:`D` severely disabled per site (80);
  :math:`\rho_i` the severe-disability rate of cell :math:`i` in units of 0.01 %
  (:math:`\rho_i = 400` for 4 %), so that every coefficient is an integer (CP-SAT needs that).
  :math:`E_C = \min(E, \lfloor 10^4 D / \min_{i\in C}\rho_i\rfloor)` (:math:`E` when that
  rate is 0) bounds what one site can serve of a cell set :math:`C` under (2) and (3);
  :math:`E_i = E_{\{i\}}`, :math:`e(C)=\sum_{i\in C} e_i`, :math:`J_C=\bigcup_{i\in C} J_i`.

Variables
---------
:math:`y_j\in\{0,1\}` site :math:`j` is open by :math:`t_n`; :math:`w_{ij}\ge 0` integer, the
elderly of cell :math:`i` served by site :math:`j` (its catchment, kept from its opening on).
A pair alone in its component (:math:`J_i=\{j\}` and :math:`j` reaches no other cell) has no
variable: :math:`w_{ij} = \min(e_i, E_i)\,y_j` and no row of (2) or (3). Exact: in a plan with
:math:`y_j = 1` a smaller :math:`w_{ij}` could be raised, within (2)–(4), to serve more, so no
optimal plan of ``max_cover`` (nor of (8), which keeps only those) has one; ``min_sites`` (4)
needs :math:`w_{ij} = e_i` anyway.

Constraints
-----------
(1) budget     :math:`\sum_j y_j \le \sum_t K_t` (caps) and :math:`\sum_j y_j \le B`
(2) capacity   :math:`\sum_i w_{ij} \le E\,y_j`;
    link       :math:`w_{ij} \le \min(e_i, E_i)\,y_j` (implied by (2)–(3), it tightens the LP)
(3) disabled   :math:`\sum_i \rho_i w_{ij} \le 10^4 D\,y_j` — expected severely disabled
    (left out when :math:`\max_i \rho_i E \le 10^4 D`: then (2) implies it)
(4) demand     :math:`\sum_{j\in J_i} w_{ij} \le e_i`;
    full       (``min_sites`` only) :math:`\sum_{j\in J_i} w_{ij} = e_i` for every
    :math:`i\in I` — every coverable elderly resident is served by :math:`t_n`
(7) rounding   for a cell set :math:`C` and candidates :math:`S \subseteq J_C` such that every
    cell of :math:`C` is reached by :math:`S`, with :math:`e(C) = qE_C + r`, :math:`q\ge 1`,
    :math:`0<r` and :math:`|S|>q`:
    :math:`\sum_{i\in C}\sum_{j\in S\cap J_i} w_{ij} \le q(E_C-r) + r\sum_{j\in S} y_j`.

    Valid for every plan (mixed-integer rounding): the left side :math:`F` is at most
    :math:`e(C)` by (4) and at most :math:`E_C Y`, :math:`Y=\sum_{j\in S} y_j` an integer (an
    open site brings at most :math:`E` by (2) and, by (3), written or implied, at most
    :math:`10^4 D/\min_C \rho_i`). If :math:`Y\le q`, :math:`E_C Y \le q(E_C-r)+rY` as
    :math:`(E_C-r)(q-Y)\ge 0`; if :math:`Y\ge q+1`, :math:`e(C)=qE_C+r\le q(E_C-r)+rY` as
    :math:`r(Y-q-1)\ge 0`. So (7) only cuts off fractional points: the same plans, the same
    optimum. (With :math:`q=0` the links imply it, with :math:`r=0` (4), with :math:`|S|\le q`
    (2).) Written for :math:`C` = each cell and each connected component of the reach graph
    (cells and candidates linked by reach) with two cells or more, with :math:`S=J_C` and
    :math:`S=J_C\setminus\{j\}` for each :math:`j` (:math:`C` then the cells :math:`S`
    reaches; for a component only up to :data:`MAX_DROP` candidates): leaving out a candidate
    that brings little (a village site at a town's edge) sharpens the rounding.
    Why: in the LP relaxation a fractionally opened site serves a full :math:`E`; on Zhangye
    the relaxation promised 135,060 elderly where the best plan serves 130,664, and HiGHS took
    3 s, CP-SAT 30–55 s to close that gap by search. With (7) the relaxation's bound is the
    optimum itself: (L1) and (L2) are each proven in well under a second on every backend.

Objective (minimise; integer weights, exact lexicographic order)
----------------------------------------------------------------
* ``max_cover`` (5a): :math:`\min\; -(|J|+1)\sum_{i,j} w_{ij} + \sum_j y_j`. One elderly
  resident outweighs every site together: the most elderly served in :math:`t_n` within the
  budget (1), then the fewest sites.
* ``min_sites`` (5b): :math:`\min \sum_j y_j` with (4) full: the fewest sites that serve every
  coverable resident. Infeasible when the caps (1) or the capacities (2)/(3) cannot.

Schedule (6)
------------
The open sites open in decreasing order of the elderly they serve (ties by id), :math:`K_t` in
year :math:`t` (all in :math:`t_1` without caps): :func:`schedule`. With the catchments fixed,
this maximises the elderly-years served 2025–2030 (exchange argument: moving a larger
catchment earlier never loses), and (1) guarantees it fits the caps. A time-indexed model
that weighs elderly-years directly has a weak LP (a fractionally opened site serves a full
2,000): on Zhangye it stayed 0.9 % (HiGHS), 1.9 % (CBC) and 5.6 % (CP-SAT) from its bound
after 60–90 s.

Tie-break (8), stage L2
-----------------------
(5) has many optimal plans (two villages of 576 elderly, which of five sites serves a town
cell first), and each backend returned another. With :math:`S^*` the elderly served and
:math:`N^*` the sites of (L1)'s proven optimum, on a copy of the model:

.. math:: \min \sum_{i,j} d_{ij} w_{ij} \quad\text{s.t. (1)–(4), (7),}\quad
          \sum_{i,j} w_{ij} = S^* \;(\text{``c8_hold_served''}),\quad
          \sum_j y_j = N^* \;(\text{``c8_hold_sites''})

These rows keep exactly the optimal plans of (5): its value :math:`-(|J|+1)S+N` with
:math:`0\le N\le|J|` fixes :math:`S` and :math:`N` (in (5b) (4) full fixes :math:`S`), so a plan
is optimal iff :math:`S=S^*` and :math:`N=N^*` (equalities rather than :math:`\ge`/:math:`\le`:
the same plans, found faster). Among them (8) takes the plan whose elderly walk least (elderly
× metres). Every open site of an optimal plan serves someone (closing an idle one would be
better for (5)), so the catchments :math:`w` fix the sites, and the schedule (6) follows: a
unique minimiser of (8) is one plan, the same on every backend. Plans of equal total metres
would tie; on Zhangye there is none (a third solve that maximises the number of sites changed,
at (8)'s optimum, finds 0, and with the sites fixed each :math:`w_{ij}` has one value).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pulp

Mode = Literal["max_cover", "min_sites"]
RATE_UNIT = 10_000  # disability rates in units of 0.01 %
MAX_DROP = 24  # (7): a component's drop-one candidate sets only up to this many candidates


@dataclass(frozen=True)
class HomeCareSite:
    """A candidate home-care site (养老服务机构 location)."""

    id: str
    county: str


@dataclass(frozen=True)
class ElderlyCell:
    """A planning cell: its elderly residents, severe-disability rate (units of 0.01 %), the
    candidate sites within its radius (empty: unreachable, reported, not modelled) and their
    distances in whole metres (the tie-break (8); empty: all 0)."""

    id: str
    county: str
    elderly: int
    disability: int
    sites: tuple[str, ...] = ()
    distances: tuple[int, ...] = ()


@dataclass(frozen=True)
class HomeCareProblem:
    """Everything the home-care covering model needs, validated and frozen."""

    cells: tuple[ElderlyCell, ...]
    sites: tuple[HomeCareSite, ...]
    years: tuple[int, ...] = (2025, 2026, 2027, 2028, 2029, 2030)
    yearly_cap: tuple[int, ...] = ()  # one per year; () = no cap
    budget: int | None = None
    mode: Mode = "max_cover"
    elderly_per_site: int = 2000  # 四(三)1: 覆盖2000名60岁以上常住老年人口
    disabled_per_site: int = 80  # 四(三)1: 服务80名重度失能老人

    @property
    def modelled(self) -> tuple[ElderlyCell, ...]:
        """Cells in the model: elderly residents and at least one candidate within reach."""
        return tuple(c for c in self.cells if c.elderly > 0 and c.sites)

    def per_site(self, cells) -> int:
        """:math:`E_C`: the most one site can serve of ``cells`` under (2) and (3)."""
        rate = min(c.disability for c in cells)
        cap = self.elderly_per_site
        return cap if rate <= 0 else min(cap, RATE_UNIT * self.disabled_per_site // rate)


@dataclass
class HomeCareModel:
    """The built model: PuLP problem, variables (a pair alone in its component: an
    expression in its ``y``) and objective terms."""

    problem: HomeCareProblem
    lp: pulp.LpProblem
    y: dict[str, pulp.LpVariable]
    w: dict[tuple[str, str], pulp.LpVariable | pulp.LpAffineExpression]
    terms: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)
    alone: frozenset[str] = frozenset()  # cells alone in their component with their one site


def build_home_care_model(problem: HomeCareProblem) -> HomeCareModel:
    """Build the one covering model of :mod:`dingdian.models.nursing` (see its docstring)."""
    if problem.mode not in ("max_cover", "min_sites"):
        raise ValueError(f"unknown mode {problem.mode!r}: max_cover or min_sites")
    if problem.yearly_cap and len(problem.yearly_cap) != len(problem.years):
        raise ValueError("yearly_cap needs one value per planning year")
    lp = pulp.LpProblem(f"dingdian_nursing_{problem.mode}", pulp.LpMinimize)
    model = define_variables(problem, lp)
    define_budget(model)
    define_capacity(model)
    define_disabled(model)
    define_demand(model)
    define_rounding(model)
    define_objective(model)
    return model


def _alone(problem: HomeCareProblem) -> set[str]:
    """Ids of the cells alone in their component: one candidate, which reaches no other cell."""
    reached = Counter(sid for c in problem.modelled for sid in c.sites)
    return {c.id for c in problem.modelled if len(c.sites) == 1 and reached[c.sites[0]] == 1}


def define_variables(problem: HomeCareProblem, lp: pulp.LpProblem) -> HomeCareModel:
    """y (open by the last year) per site; w (elderly served) per reachable cell and site."""
    site_no = {s.id: k for k, s in enumerate(problem.sites)}
    y = {s.id: lp.add_variable(f"y_j{site_no[s.id]}", cat=pulp.LpBinary) for s in problem.sites}
    alone, w = _alone(problem), {}
    for i, c in enumerate(problem.cells):
        if c.elderly > 0:
            for sid in c.sites:
                w[c.id, sid] = (min(c.elderly, problem.per_site([c])) * y[sid] if c.id in alone
                                else lp.add_variable(f"w_i{i}_j{site_no[sid]}", lowBound=0,
                                                     upBound=c.elderly, cat=pulp.LpInteger))
    return HomeCareModel(problem=problem, lp=lp, y=y, w=w, alone=frozenset(alone))


def define_budget(model: HomeCareModel) -> None:
    """(1) at most Σ_t K_t sites (the yearly caps, 分年度实施) and at most B."""
    p = model.problem
    opened = pulp.lpSum(model.y.values())
    if p.yearly_cap:
        model.lp += (opened <= sum(p.yearly_cap), "c1_budget_caps")
    if p.budget is not None:
        model.lp += (opened <= p.budget, "c1_budget")


def _by_site(model: HomeCareModel) -> list[tuple[int, str, list[tuple[int, ElderlyCell]]]]:
    """Per site (index, id), the modelled cells it reaches with their index (but no alone pair)."""
    out: dict[str, list[tuple[int, ElderlyCell]]] = {s.id: [] for s in model.problem.sites}
    for i, c in enumerate(model.problem.cells):
        if c.elderly > 0:
            for sid in c.sites:
                out[sid].append((i, c))
    return [(k, sid, cells) for k, (sid, cells) in enumerate(out.items())
            if not (len(cells) == 1 and cells[0][1].id in model.alone)]


def define_capacity(model: HomeCareModel) -> None:
    """(2) at most E elderly per open site; each pair linked to its site being open."""
    p = model.problem
    for k, sid, cells in _by_site(model):
        y = model.y[sid]
        if not cells:
            model.lp += (y <= 0, f"c2_capacity_j{k}")  # reaches nobody: never worth opening
            continue
        model.lp += (pulp.lpSum(model.w[c.id, sid] for _i, c in cells) - p.elderly_per_site * y
                     <= 0, f"c2_capacity_j{k}")
        for i, c in cells:
            model.lp += (model.w[c.id, sid] - min(c.elderly, p.per_site([c])) * y <= 0,
                         f"c2_link_i{i}_j{k}")


def define_disabled(model: HomeCareModel) -> None:
    """(3) expected severely disabled served (rate × elderly) at most D per open site."""
    p = model.problem
    limit = RATE_UNIT * p.disabled_per_site
    for k, sid, cells in _by_site(model):
        if cells and max(c.disability for _i, c in cells) * p.elderly_per_site > limit:
            load = pulp.lpSum(c.disability * model.w[c.id, sid] for _i, c in cells)
            model.lp += (load - limit * model.y[sid] <= 0, f"c3_disabled_j{k}")


def define_demand(model: HomeCareModel) -> None:
    """(4) a cell's elderly are served at most once; in ``min_sites`` all of them."""
    p = model.problem
    for i, c in enumerate(p.cells):
        if c.elderly <= 0 or not c.sites:
            continue
        served = pulp.lpSum(model.w[c.id, sid] for sid in c.sites)
        if p.mode == "min_sites":
            model.lp += (served == c.elderly, f"c4_full_i{i}")
        elif len(c.sites) > 1:  # one site: the bound w ≤ e_i already says it
            model.lp += (served <= c.elderly, f"c4_demand_i{i}")


def components(problem: HomeCareProblem) -> list[list[int]]:
    """The connected components of the reach graph (cells and candidates, linked by reach), as
    lists of cell indices in ``problem.cells``, in the order of their first cell."""
    parent: dict[object, object] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = x = parent[parent[x]]
        return x

    cells = [(i, c) for i, c in enumerate(problem.cells) if c.elderly > 0 and c.sites]
    for i, c in cells:
        for sid in c.sites:
            parent[root(("j", sid))] = root(i)
    out: dict[object, list[int]] = {}
    for i, _c in cells:
        out.setdefault(root(i), []).append(i)
    return list(out.values())


def define_rounding(model: HomeCareModel) -> None:
    """(7) the rounding rows of each cell and of each component of two cells or more, for the
    candidate set ``S = J_C`` and each ``J_C`` less one candidate (see the module docstring)."""
    p, seen = model.problem, set()
    site_no = {s.id: k for k, s in enumerate(p.sites)}
    for n, members in enumerate(components(p)):
        sets = [([i], f"i{i}", True) for i in members if p.cells[i].id not in model.alone]
        if len(members) > 1:
            reach = {sid for i in members for sid in p.cells[i].sites}
            sets.append((members, f"c{n}", len(reach) <= MAX_DROP))
        for group, name, drop in sets:
            reach = sorted({sid for i in group for sid in p.cells[i].sites}, key=site_no.get)
            _round(model, group, set(reach), f"c7_round_{name}", seen)
            for sid in reach if drop and len(reach) > 1 else ():
                _round(model, group, set(reach) - {sid}, f"c7_round_{name}_x{site_no[sid]}", seen)


def _round(model: HomeCareModel, group: list[int], within: set[str], name: str, seen) -> None:
    """One row of (7) for the cells of ``group`` that the candidates ``within`` reach (none
    when ``seen`` has that pair of sets already)."""
    p = model.problem
    cells = [p.cells[i] for i in group if within & set(p.cells[i].sites)]
    key = (frozenset(c.id for c in cells), frozenset(within))
    if not cells or key in seen:
        return
    seen.add(key)
    cap = p.per_site(cells)
    q, r = divmod(sum(c.elderly for c in cells), cap)
    if q == 0 or r == 0 or len(within) <= q:  # then (2), (4) or the links imply it
        return
    flow = pulp.lpSum(model.w[c.id, sid] for c in cells for sid in c.sites if sid in within)
    opened = pulp.lpSum(model.y[sid] for sid in within)
    model.lp += (flow - r * opened <= q * (cap - r), name)


def define_objective(model: HomeCareModel) -> None:
    """(5a) ``max_cover`` or (5b) ``min_sites`` (see the module docstring)."""
    p = model.problem
    sites = pulp.lpSum(model.y.values())
    if p.mode == "max_cover":
        model.terms = {"5a_elderly": -(len(p.sites) + 1) * pulp.lpSum(model.w.values()),
                       "5a_sites": sites}
    else:
        model.terms = {"5b_sites": sites}
    model.lp.setObjective(pulp.lpSum(model.terms.values()))


def optimum(model: HomeCareModel, values: dict[str, float]) -> tuple[int, int]:
    """:math:`(S^*, N^*)`: the elderly served and the sites open in ``values``."""
    served = sum(_value(w, values) for w in model.w.values())
    return int(round(served)), sum(int(round(values.get(y.name, 0.0))) for y in model.y.values())


def tie_break(model: HomeCareModel, served: int, sites: int) -> HomeCareModel:
    """(8): a copy of ``model`` (same variables, own rows and objective) holding the optimum
    ``served``, ``sites`` of (5), minimising the elderly × metres walked."""
    staged = dataclasses.replace(model, lp=model.lp.copy())
    staged.lp += (pulp.lpSum(model.w.values()) == served, "c8_hold_served")
    staged.lp += (pulp.lpSum(model.y.values()) == sites, "c8_hold_sites")
    metres = {(c.id, sid): d for c in model.problem.modelled
              for sid, d in zip(c.sites, c.distances or [0] * len(c.sites), strict=True)}
    staged.lp.setObjective(pulp.lpSum(metres[key] * w for key, w in model.w.items()))
    return staged


def _value(e, values: dict[str, float]) -> float:
    """A variable's or an expression's value, from values by variable name."""
    if isinstance(e, pulp.LpVariable):
        return values.get(e.name, 0.0)
    return e.constant + sum(a * values.get(v.name, 0.0) for v, a in e.items())


def schedule(loads: dict[str, int], years, caps=()) -> dict[str, int]:
    """(6) opening year per site: decreasing load (ties by id), ``caps[k]`` in ``years[k]``.

    Raises ``ValueError`` when the caps hold fewer sites than ``loads`` (the model's (1)
    prevents that).
    """
    order = sorted(loads, key=lambda sid: (-loads[sid], sid))
    slots = [t for t, k in zip(years, caps, strict=True) for _ in range(k)] if caps else (
        [years[0]] * len(order))
    if len(slots) < len(order):
        raise ValueError(f"{len(order)} sites but the yearly caps allow {len(slots)}")
    return dict(zip(order, slots[: len(order)], strict=True))


def read_solution(model: HomeCareModel, values: dict[str, float]
                  ) -> tuple[dict[str, int], pd.DataFrame]:
    """Opening year per open site (6) and the catchments ``cell_id, site_id, elderly,
    disabled, year_from`` (disabled = expected, rate × elderly), from values by variable name."""
    rate = {c.id: c.disability / RATE_UNIT for c in model.problem.cells}
    rows = [(cid, sid, int(round(_value(w, values)))) for (cid, sid), w in model.w.items()]
    frame = pd.DataFrame(rows, columns=["cell_id", "site_id", "elderly"])
    frame = frame[frame["elderly"] > 0].sort_values(["cell_id", "site_id"])
    frame["disabled"] = (frame["elderly"] * frame["cell_id"].map(rate)).round(6)
    open_ = [sid for sid, v in model.y.items() if round(values.get(v.name, 0.0)) == 1]
    loads = frame.groupby("site_id")["elderly"].sum()
    p = model.problem
    opened = schedule({sid: int(loads.get(sid, 0)) for sid in open_}, p.years, p.yearly_cap)
    frame["year_from"] = frame["site_id"].map(opened)
    return opened, frame.reset_index(drop=True)


def cell_years(assign: pd.DataFrame, elderly: pd.Series, years) -> pd.DataFrame:
    """Per cell (``elderly`` indexed by cell id): ``covered_by`` (site ids, ';'),
    ``elderly_covered`` in the last year, ``year_covered`` (first year any of its elderly are
    served) and ``year_full`` (first year all are); catchments start in ``year_from``."""
    served = pd.DataFrame({t: assign[assign["year_from"] <= t].groupby("cell_id")["elderly"].sum()
                           for t in years}).reindex(elderly.index).fillna(0).astype(int)
    some, full = served.gt(0), served.ge(elderly, axis=0) & served.gt(0)
    return pd.DataFrame({
        "covered_by": assign.groupby("cell_id")["site_id"].agg(";".join).reindex(elderly.index
                                                                                ).fillna(""),
        "elderly_covered": served[years[-1]],
        "year_covered": some.idxmax(axis=1).where(some.any(axis=1)).astype("Int64"),
        "year_full": full.idxmax(axis=1).where(full.any(axis=1)).astype("Int64")})


# --------------------------------------------------------------------------- institution care
@dataclass(frozen=True)
class BedArea:
    """One area (county) for institution-care beds."""

    county: str
    beneficiaries: float  # expected long-term-care beneficiaries (预期享受长护险待遇人数)
    existing_beds: int
    occupancy: float  # bed occupancy rate 0–1 (床位使用率)
    surplus_hospital_beds: int = 0  # hospital beds over the plan (表4), may turn to nursing


@dataclass(frozen=True)
class BedRules:
    """四(三)2: beds ≤ ``cap_share`` × beneficiaries; no new beds below ``min_occupancy``."""

    cap_share: float = 0.20
    min_occupancy: float = 0.60
    beds_per_institution: int = 50


def _split(total: int, weights) -> np.ndarray:
    """Largest-remainder split (ties to the earlier area)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    order = np.lexsort((np.arange(len(w)), -(exact - base)))
    base[order[: int(total - base.sum())]] += 1
    return base


def plan_institution_beds(areas, rules: BedRules = BedRules(),
                          city_beneficiaries: float | None = None) -> pd.DataFrame:
    """Institution-care beds per area (机构照护型, 四(三)2), one row per area.

    * City cap: ``floor(cap_share × B)``, ``B`` the city's expected beneficiaries
      (``city_beneficiaries``, default the areas' sum); split by area in proportion to each
      area's expected beneficiaries (largest remainder), so the area caps add up to the city cap.
    * An area whose occupancy is below ``min_occupancy`` adds no beds: planned =
      min(existing, cap); otherwise planned = cap. Planned never exceeds the cap (an area above
      it is brought down to it).
    * New beds = max(0, planned − existing); of these, up to the area's surplus hospital beds
      (表4, 五(二)1(1) "超配床位转向养老、护理机构床位") come from converted hospital beds.
    * Institutions = ceil(planned / beds_per_institution).
    """
    areas = list(areas)
    b = np.array([a.beneficiaries for a in areas], dtype=float)
    total = float(b.sum()) if city_beneficiaries is None else float(city_beneficiaries)
    city_cap = int(math.floor(rules.cap_share * total + 1e-9))
    caps = _split(city_cap, b)
    rows = []
    for a, cap in zip(areas, caps, strict=True):
        allowed = a.occupancy >= rules.min_occupancy
        planned = int(cap) if allowed else min(a.existing_beds, int(cap))
        new = max(0, planned - a.existing_beds)
        rows.append({
            "county": a.county, "beneficiaries": round(a.beneficiaries * total / max(b.sum(), 1e-12), 1),
            "bed_cap": int(cap), "existing_beds": a.existing_beds, "occupancy": a.occupancy,
            "new_allowed": allowed, "planned_beds": planned, "new_beds": new,
            "converted_beds": min(new, max(0, a.surplus_hospital_beds)),
            "institutions": math.ceil(planned / rules.beds_per_institution),
        })
    frame = pd.DataFrame(rows)
    frame.attrs["city_cap"] = city_cap
    frame.attrs["city_beneficiaries"] = total
    return frame


def check_beds(beds: pd.DataFrame, rules: BedRules, city_beneficiaries: float) -> list[str]:
    """The 四(三)2 rules recomputed from a bed table (columns ``county, bed_cap,
    existing_beds, occupancy, planned_beds, institutions``); [] when every rule holds."""
    bad = []
    cap = math.floor(rules.cap_share * city_beneficiaries + 1e-9)
    if max(beds["bed_cap"].sum(), beds["planned_beds"].sum()) > cap:
        bad.append(f"beds {beds['planned_beds'].sum()} (caps {beds['bed_cap'].sum()}) > "
                   f"{rules.cap_share:.0%} of {city_beneficiaries:.0f} beneficiaries = {cap}")
    for r in beds.itertuples(index=False):
        if r.planned_beds > r.bed_cap:
            bad.append(f"{r.county}: {r.planned_beds} beds > cap {r.bed_cap}")
        if r.occupancy < rules.min_occupancy and r.planned_beds > r.existing_beds:
            bad.append(f"{r.county}: beds added at occupancy {r.occupancy:.0%}")
        if r.institutions != math.ceil(r.planned_beds / rules.beds_per_institution):
            bad.append(f"{r.county}: {r.institutions} institutions for {r.planned_beds} beds")
    return bad

