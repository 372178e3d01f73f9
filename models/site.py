r"""The multi-year site model: who stays, who is admitted (准入), who exits (退出).

One formulation, built once with PuLP from a frozen :class:`~dingdian.models.data.SiteProblem` and solved
by any backend in :mod:`dingdian.run.backends` (HiGHS, CBC, CP-SAT). Each constraint family is one
``define_*`` function; the number in its name is the number below and the prefix of every
constraint name it creates (``c1_flow_…``, ``c2_target_…``, …).

Sets and data
-------------
* :math:`F` facilities, :math:`F^E` existing (designated at the end of the base year
  :math:`t_0`), :math:`F^A` applicants; :math:`F_{ck}` those of county :math:`c` and kind
  :math:`k`, :math:`F_{sk}` those of street :math:`s`; :math:`P \subseteq F` protected
  (村卫生室, key projects, grassroots public-health institutions).
* :math:`T = (t_1,\dots,t_n)` planning years (2025…2030); :math:`t_f` the first year applicant
  :math:`f` may be admitted; :math:`\sigma_f` its score (考核得分 / 公开评议, 0–100).
* :math:`N_{ckm}` the county target (表2/表3) at milestone :math:`m` (2028, 2030);
  :math:`A_{ckt}, X_{ckt}` (:math:`A_{skt}, X_{skt}`) the yearly admission / exit figures per
  county (表6/表7) and street (表8/表9).
* :math:`K` keep cells: populated cells covered in :math:`t_0`; :math:`G` gain cells: populated,
  uncovered in :math:`t_0`, reachable by an applicant; :math:`R_{ik}` the facilities of kind
  :math:`k` within the cell's radius, :math:`p_i` its population; :math:`C_{ik}` the
  facilities located in urban cell :math:`i`.

Variables (binary unless said)
------------------------------
:math:`x_{ft}` designated at the end of :math:`t` (:math:`x_{ft_0}=1` iff :math:`f\in F^E`, a
constant); :math:`a_{ft}` admitted in :math:`t` (applicants, :math:`t\ge t_f`); :math:`e_{ft}`
exited in :math:`t`; :math:`g_{ikt}` gain cell covered; :math:`o_{ikt}\ge 0` integer excess
facilities in a cell; :math:`u_{ck}\ge 0` integer, the busiest year's changes.

Constraints
-----------
(1a) flow          :math:`x_{ft} = x_{f,t-1} + a_{ft} - e_{ft}`
(1b) exit_after    :math:`e_{ft} \le x_{f,t-1}` — only a designated facility exits, and never
                   in the year it is admitted
(1c) admit_once    :math:`\sum_t a_{ft} \le 1` for :math:`f\in F^A` — an exited facility does
                   not come back (existing ones have no :math:`a` at all)
(2)  target        :math:`\sum_{f\in F_{ck}} x_{fm} = N_{ckm}` (``target_mode="at_most"``: ≤)
(3)  county_admit  :math:`\sum_{f\in F_{ck}} a_{ft} \le A_{ckt}`;
     county_exit   :math:`\sum_{f\in F_{ck}} e_{ft} \le X_{ckt}` (``exact``: =)
(4)  street_admit / street_exit — the same per street :math:`s` (表8/表9);
     rest_admit / rest_exit — the facilities of a county outside its planned streets share
     what the county figure leaves: :math:`A_{ckt} - \sum_s A_{skt}` (0 in Zhangye, whose
     streets add up to 甘州区's whole figure every year)
(5)  cover         :math:`\sum_{f\in R_{ik}} x_{ft} \ge 1` for :math:`i\in K`, every :math:`t`;
     gain          :math:`g_{ikt} \le \sum_{f\in R_{ik}} x_{ft}` for :math:`i\in G`
(6)  crowd         :math:`o_{ikt} \ge \sum_{f\in C_{ik}} x_{ft} - 1` (服务圈内原则上配置1家)
(7)  protected     :math:`\sum_t e_{ft} = 0` for :math:`f\in P` (村卫生室原则上不做调控)
(8)  peak          :math:`u_{ck} \ge \sum_{f\in F_{ck}} (a_{ft}+e_{ft})` for every :math:`t`

Rules of the Heze plan (《菏泽市医疗保障定点医药服务资源配置规划（2026-2030年）》). Each family
is built only from data the problem carries, so a problem without it (Zhangye) gets no row:

* :math:`F^X \subseteq F` exempt from the plan (二(三)2 重点建设项目, 二(三)3 基层公共卫生机构,
  the closing paragraph's 2025-03-01 licence date); they are also never exited (7), and their
  admissions are left out of (3) and (4): :math:`\sum_{f\in F_{ck}\setminus F^X} a_{ft}`.
* :math:`F^P \subseteq F^A` priority classes (二(二): 社区卫生服务中心/站, 一体化村卫生室, 高等院校
  and 养老机构 in-house clinics); :math:`w_{prio}` the bonus per admission.
* :math:`N_f` for an applicant :math:`f\in F^A\setminus F^X`: the facilities of its type within
  800 m — the same kind, or with ``rules.near_type: category`` the same category (the radius
  is data; distances from projected coordinates, precomputed by the loader).
* :math:`T^G \subseteq T` the years the fund-risk gate is closed (二(三)1).
* :math:`T^B \subseteq T` the years the needed-beds rule pauses new designations (二(一)1) when
  the scenario applies the pause to outpatient clinics (``rules.bed_pause_outpatient``);
  :math:`F^C \subseteq F^A` the clinic applicants.
* :math:`(n, o)` moves: applicant row :math:`n` takes over the address of existing facility
  :math:`o` in another management area (二(二) 跨医保管理区域变更注册地址).

(9)  near          for :math:`f\in F^A\setminus F^X`, :math:`g\in N_f`, :math:`t\ge t_f`, by
                   ``SiteProblem.near_timing``:

                   * ``start`` (default): :math:`a_{ft} + x_{g,t-1} + a_{gt} \le 1` — not
                     admitted in a year that begins with a same-type facility within 800 m
                     designated (:math:`x_{g,t_0}` is the base-year constant, so an existing
                     neighbour bars the first year outright), nor in the year that neighbour
                     is admitted (:math:`a_{gt}`, only for an applicant :math:`g`). An exit in
                     :math:`t` frees the site from :math:`t+1` on: the neighbour is still
                     designated when the year's applications are assessed (有同类型定点医药机构的).
                   * ``end``: :math:`a_{ft} + x_{gt} \le 1` — checked against the designations
                     at the end of the year; an exit in :math:`t` frees the site in :math:`t`.

                   Under both, two applicants near each other are never admitted in the same
                   year (one assessment round, 年度受理计划: admitting both would put two new
                   same-type designations within 800 m of each other), and once one is in, the
                   other stays out while it is designated. The ``start`` row is valid because
                   :math:`x_{g,t-1}` and :math:`a_{gt}` are never both 1 (1c). A pair whose other
                   end is an applicant not yet available in :math:`t` holds anyway and is left
                   out.
(10) gate          :math:`\sum_{f\in F^A\setminus F^X} a_{ft} \le 0` for :math:`t\in T^G` —
                   no admission city-wide while any fund condition fails (全市均暂不新增规划指标)
(11) move          :math:`a_{nt} = e_{ot}` for :math:`t\ge t_n` — from its application year on,
                   the old site is left exactly when the new one is admitted, in the same year;
                   the new site obeys every rule of an admission ((3) of its county, (9), (10)),
                   the old site every rule of an exit ((3) of its county, (5), (7)). A refused
                   move leaves the facility where it is.
(12) exempt        :math:`a_{f t_f} = 1` for :math:`f\in F^X\cap F^A` — admitted on request in
                   its application year (可按规定依申请纳入), whatever (3), (4), (9), (10) say.
                   Exempt facilities still count in the county targets (2): a forced admission
                   that breaks a cap is reported, not hidden.
(17) pause         :math:`\sum_{f\in F^C\setminus F^X} a_{ft} \le 0` for :math:`t\in T^B` — in a
                   year whose needed beds fall below both the target and the actual value
                   (二(一)1 暂停全市当年度医疗机构新增医保定点的受理和评估), no outpatient clinic is
                   admitted either; pharmacies (not 医疗机构) and exempt clinics go on. Off by
                   default: the sentence stands under 住院定点医疗机构.

The plans' remaining allocation rules, in :mod:`dingdian.models.allocation` (full formulation there),
each built only from data the problem carries, so a problem without it gets no row:

(13) zone_override / zone_budget  special zones (张掖 五(二)2): :math:`v_{ft} \le a_{ft}`,
                   :math:`\sum v_{ft} \le B_{ckt}`; an override admission is left out of (3)
                   and (4) — it exceeds the yearly limits with expert approval (需专家论证)
(14) role_x / role_keep / role_low / role_high  pharmacy roles (张掖 四(二), 菏泽 二(二)):
                   :math:`r_{\rho ft} \le x_{ft}`, kept while designated,
                   :math:`L_{\rho c} \le \sum_f r_{\rho ft} \le U_{\rho c}`
(15) exits_done / admit_after  exits before admissions (张掖 五(一)4, 七(三)): an
                   over-configured county admits in :math:`t` only when its planned exits of
                   :math:`t` are done

The quality rule (张掖 五(一)2 "强化日常监管和年度考核，采取末位淘汰制，对考核不达标和考核排名末位的
终止医保服务协议"; 七 "对年度考核不合格的解除协议"), built only when the problem has a pass mark
:math:`\pi` (``SiteProblem.pass_mark``; the plan gives no figure, so it is off by default):

* :math:`\sigma_{ft}` the score of :math:`f` in :math:`t`: the scores table's (考核得分 by year,
  ``Facility.scores``), else :math:`\sigma_f`;
* :math:`Q = \{(f,t)\}` the failing pairs: :math:`f\in F^E\setminus(P\cup F^X)` with
  :math:`\sigma_{ft} < \pi`, and an applicant in a year the scores table gives it a score
  below :math:`\pi` (its own :math:`\sigma_f` is a review, not an assessment).

(16) pass_mark     :math:`x_{ft} = 0` for :math:`(f,t)\in Q` — a facility that fails the
                   assessment of :math:`t` is not designated at the end of :math:`t`: it exits in
                   :math:`t` if it is still designated (or has exited before). Protected and
                   exempt facilities are outside the rule (they never exit, (7): 村卫生室维持现有
                   布局). By default these exits are left out of (3)/(4):
                   :math:`\sum_{f:(f,t)\notin Q} e_{ft} \le X_{ckt}` — a termination under the
                   agreement that no yearly figure can hold back (表7/表9 leave 甘州区 no exit
                   outside its six streets, yet a pharmacy there may fail); with
                   ``pass_mark_within_limits`` they count in (3)/(4) like any other exit (the
                   年度退出计划 of 表6/表7 read as every exit, 五(一)2 lists them under
                   制定年度退出计划). The targets (2) hold either way. No slack:
                   :mod:`dingdian.run.explain` reads a conflict as the exit limit it overruns.
     gain          a keep cell (5) whose existing facilities of the kind all fail by :math:`t`
                   is, from :math:`t` on, a gain cell (:math:`g_{ikt}`, (8a)) rather than a hard
                   row: the termination wins over keeping the cell covered, and an applicant
                   that fills it earns (8a) like any blind spot.

Objective (minimise; integer weights :class:`~dingdian.models.data.Weights`, defaults in brackets)
-----------------------------------------------------------------------------------------
.. math::

   \min\; -w_{cov}\!\sum_{i\in G,t} p_i g_{ikt}                       \quad(8a)\;[10]
        + w_{crowd}\!\sum o_{ikt}                                      \quad(8b)\;[2]
        + \sum_{f,t} (w_{exit}\sigma_{ft} + w_{churn}) e_{ft}          \quad(8c)\;[1, 5]
        + \sum_{f,t} (w_{churn} - w_{admit}\sigma_f) a_{ft}            \quad(8d)\;[1, 5]
        + w_{spread}\sum_{ck} u_{ck}                                   \quad(8e)\;[3]
        - w_{prio}\!\sum_{f\in F^P,t} a_{ft}                           \quad(8f)\;[50]
        + (8g)\text{–}(8k)                       \quad\text{(dingdian.models.allocation)}

(8a) fills blind spots first (优先受理服务盲区): a person-year of coverage outweighs any score
difference; (8c) makes the lowest-scoring facility the cheapest exit (末位淘汰), by each year's
score :math:`\sigma_{ft}` (:math:`\sigma_f` without a scores table); (8d) makes the
best-reviewed applicant the cheapest admission (择优准入) — a swap (one more admission and one
more exit, the net count unchanged) happens only when the applicant's review beats the exited
facility's score by more than :math:`2w_{churn}` (plus :math:`w_{spread}` when the swap makes
the busiest year busier); (8e) spreads change evenly over the years. (8f) admits the
priority classes first (二(二) 可优先纳入): 50 exceeds any difference of two review scores of
admissible applicants (60–100 in the shipped scenarios), so under a binding quota a qualifying
priority applicant wins over any other; coverage (8a) still comes first. The term is left out
when no applicant has a priority class. (8g) penalises special-zone overrides [200], (8h)
makes the best-scoring pharmacy the cheapest role holder [1 per point below 101], (8i)–(8k)
favour remote and blind-spot applicants [50], urgently needed specialities [20] and chain
pharmacies [10]; :mod:`dingdian.models.allocation` gives the reasons for each weight.

Elastic form
------------
``build_site_model(problem, elastic=True)`` adds non-negative integer slacks to (2)–(5) and
minimises their weighted sum alone: 1 per unit a county's final target (2) is missed, 2 per unit
an earlier milestone is (a conflict between the two is read at the final target), 100 per unit
a quota (3), (4) or a keep cell (5) is violated. Its optimum is the least violation; the non-zero slacks say
which county, target, quota or cell makes a plan impossible (see :mod:`dingdian.run.explain`). The
far cheaper target slack makes the answer unique where a target and the limits that stop it
conflict: the planner reads "the 2028 target cannot be reached, the limits allow only …"
rather than "the 2028 exit limit is exceeded", whichever backend solved it; a quota or cell
is named only when no target shortfall can absorb the conflict (exact quotas, for example).
The rules (9)–(12), (16) and (17) get no slack: they are never relaxed, and
:mod:`dingdian.run.explain` names them when it explains the target or quota that they make
impossible.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from dingdian.models import allocation  # (13)–(15) and (8g)–(8k), built on site_core
from dingdian.models.data import Quota, SiteProblem
from dingdian.models.pulp_rows import EQ, GE, LE, add_row, gc_paused, linear, minus, total, var_sum
from dingdian.models.site_core import Namer, SiteModel, limit

#: constraint families the explanation may leave out to measure each one's share of a shortfall
RELAXABLE = ("cover", "near", "gate", "moves", "sequencing", "pause")


def build_site_model(problem: SiteProblem, *, elastic: bool = False,
                     relax: frozenset[str] = frozenset()) -> SiteModel:
    """Build the one linear model of :mod:`dingdian.models.site` (see its docstring for the maths).

    ``relax`` leaves out whole families of :data:`RELAXABLE` — the keep rows of (5), (9), (10),
    (11), (15), (17) — so that :mod:`dingdian.run.explain` can measure how much of a shortfall
    each causes.
    """
    unknown = set(relax) - set(RELAXABLE)
    if unknown:
        raise ValueError(f"cannot relax {sorted(unknown)}: choose among {RELAXABLE}")
    with gc_paused():
        return _build(problem, elastic, frozenset(relax))


def _build(problem: SiteProblem, elastic: bool, relax: frozenset[str] = frozenset()) -> SiteModel:
    lp = pulp.LpProblem("dingdian_site_elastic" if elastic else "dingdian_site", pulp.LpMinimize)
    model = define_variables(problem, lp, elastic)
    names = Namer(problem)
    define_flow(model, names)
    allocation.define_zone_overrides(model, names)
    define_targets(model, names)
    define_county_quotas(model, names)
    define_street_quotas(model, names)
    gains = define_coverage(model, names, keep="cover" not in relax)
    crowd = define_crowding(model, names)
    define_protected(model, names)
    define_pass_mark(model, names)
    peaks = define_spread(model, names)
    if "near" not in relax:
        define_near(model, names)
    if "gate" not in relax:
        define_gate(model, names)
    if "moves" not in relax:
        define_moves(model, names)
    define_exempt(model, names)
    if "pause" not in relax:
        define_pause(model, names)
    allocation.define_roles(model, names)
    if "sequencing" not in relax:
        allocation.define_sequencing(model, names)
    define_objective(model, gains, crowd, peaks)
    return model


def define_variables(problem: SiteProblem, lp: pulp.LpProblem, elastic: bool) -> SiteModel:
    """x (designated), a (admitted), e (exited) per facility and year."""
    names = Namer(problem)
    t0, years = problem.base_year, problem.years
    x: dict[tuple[str, int], pulp.LpVariable | int] = {}
    a: dict[tuple[str, int], pulp.LpVariable] = {}
    e: dict[tuple[str, int], pulp.LpVariable] = {}
    new, binary = lp.add_variable, pulp.LpBinary
    for f in problem.facilities:
        n, fid = names.f(f.id), f.id
        x[fid, t0] = 1 if f.existing else 0
        for t in years:
            x[fid, t] = new(f"x_{n}_{t}", cat=binary)
            e[fid, t] = new(f"e_{n}_{t}", cat=binary)
            if not f.existing and t >= f.available_from:
                a[fid, t] = new(f"a_{n}_{t}", cat=binary)
    return SiteModel(problem=problem, lp=lp, x=x, a=a, e=e, elastic=elastic)


def define_flow(model: SiteModel, names: Namer) -> None:
    """(1a) flow, (1b) exit only when designated the year before, (1c) admitted at most once."""
    p = model.problem
    x, a, e = model.x, model.a, model.e
    prev_years = (p.base_year, *p.years[:-1])
    for f in p.facilities:
        n, fid = names.f(f.id), f.id
        for prev, t in zip(prev_years, p.years, strict=True):
            # x[t] - x[t-1] - a[t] + e[t] == 0; x[t0] is the constant 1 or 0
            x_prev, adm, ex = x[fid, prev], a.get((fid, t)), e[fid, t]
            terms = [(x[fid, t], 1)]
            if isinstance(x_prev, int):
                constant = -x_prev
            else:
                constant = 0
                terms.append((x_prev, -1))
            if adm is not None:
                terms.append((adm, -1))
            terms.append((ex, 1))
            add_row(model.lp, f"c1_flow_{n}_{t}", terms, EQ, 0, constant)
            if not (isinstance(x_prev, int) and x_prev == 1):  # e ≤ 1 needs no row
                terms = [(ex, 1)] if isinstance(x_prev, int) else [(ex, 1), (x_prev, -1)]
                add_row(model.lp, f"c1_exit_after_{n}_{t}", terms, LE, 0, 0)
        admits = [a[fid, t] for t in p.years if (fid, t) in a]
        if len(admits) > 1:
            add_row(model.lp, f"c1_admit_once_{n}", [(v, 1) for v in admits], LE, 1)


def _groups(model: SiteModel, attr: str) -> dict[tuple[str, str], list[str]]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in model.problem.facilities:
        area = getattr(f, attr)
        if area:
            groups[area, f.kind].append(f.id)
    return groups


def define_targets(model: SiteModel, names: Namer) -> None:
    """(2) county count of each kind at each milestone equals (at most) the plan's figure."""
    p = model.problem
    groups = _groups(model, "county")
    sense = "==" if p.options.target_mode == "equal" else "<="
    final: dict[tuple[str, str], int] = {}
    for tg in p.targets:
        final[tg.county, tg.kind] = max(final.get((tg.county, tg.kind), tg.year), tg.year)
    for tg in p.targets:
        ids = groups.get((tg.county, tg.kind), [])
        expr = var_sum(model.x[fid, tg.year] for fid in ids)
        name = f"c2_target_{names.ar(tg.county)}_{tg.kind}_{tg.year}"
        cost = 1 if tg.year == final[tg.county, tg.kind] else 2  # elastic: read at the final
        limit(model, name, expr, tg.count, sense, "target", (tg.county, tg.kind, tg.year), cost)


def street_rest_quotas(problem: SiteProblem) -> list[tuple[Quota, list[str]]]:
    """(4) rest: per county, kind and year with street rows, the county figure less the
    streets' sum, for the county's facilities outside those streets (never below 0)."""
    street_county = {f.street: f.county for f in problem.facilities if f.street}
    streets: dict[tuple[str, str, int], list[Quota]] = defaultdict(list)
    for q in problem.quotas:
        if q.level == "street" and q.area in street_county:
            streets[street_county[q.area], q.kind, q.year].append(q)
    members: dict[tuple[str, str], list] = defaultdict(list)
    for f in problem.facilities:
        members[f.county, f.kind].append(f)
    out = []
    for q in problem.quotas:
        rows = streets.get((q.area, q.kind, q.year)) if q.level == "county" else None
        if not rows:
            continue
        planned = {r.area for r in rows}
        ids = [f.id for f in members.get((q.area, q.kind), ()) if f.street not in planned]
        rest = Quota("rest", q.area, q.kind, q.year, max(0, q.admit - sum(r.admit for r in rows)),
                     max(0, q.exit - sum(r.exit for r in rows)))
        out.append((rest, ids))
    return out


def _define_quotas(model: SiteModel, names: Namer, level: str, number: int) -> None:
    p = model.problem
    if level == "rest":
        pairs = street_rest_quotas(p)
    else:
        groups = _groups(model, "county" if level == "county" else "street")
        pairs = [(q, groups.get((q.area, q.kind), [])) for q in p.quotas if q.level == level]
    exit_sense = "==" if p.options.exit_mode == "exact" else "<="
    admit_sense = "==" if p.options.admit_mode == "exact" else "<="
    exempt = {f.id for f in p.facilities if f.exempt}
    outside = set() if p.pass_mark_within_limits else set(failing_pairs(p))
    for q, ids in pairs:
        admits = var_sum(model.a[fid, q.year] for fid in ids
                      if (fid, q.year) in model.a and fid not in exempt)
        if model.overrides:  # (13) special-zone overrides are not counted
            admits = admits - var_sum(model.overrides[fid, q.year] for fid in ids
                                   if (fid, q.year) in model.overrides)
        exits = var_sum(model.e[fid, q.year] for fid in ids
                        if (fid, q.year) not in outside)  # (16) pass-mark exits, if outside
        base = f"c{number}_{level}"
        tag = f"{names.ar(q.area)}_{q.kind}_{q.year}"
        key = (q.area, q.kind, q.year)
        limit(model, f"{base}_admit_{tag}", admits, q.admit, admit_sense, f"{level}_admit", key)
        limit(model, f"{base}_exit_{tag}", exits, q.exit, exit_sense, f"{level}_exit", key)


def define_county_quotas(model: SiteModel, names: Namer) -> None:
    """(3) yearly admissions and exits per county and kind (表6/表7)."""
    _define_quotas(model, names, "county", 3)


def define_street_quotas(model: SiteModel, names: Namer) -> None:
    """(4) yearly admissions and exits per street and kind (表8/表9), and for the rest of the
    county outside its planned streets, if switched on."""
    if model.problem.options.street_quotas:
        _define_quotas(model, names, "street", 4)
        _define_quotas(model, names, "rest", 4)


def define_coverage(model: SiteModel, names: Namer,
                    keep: bool = True) -> list[tuple[int, pulp.LpVariable]]:
    """(5) keep cells stay covered every year (``keep=False``: left out); gain cells earn (8a)
    when covered.

    Returns ``(population, g)`` pairs for the objective.
    """
    gains: list[tuple[int, pulp.LpVariable]] = []
    lost = lost_cover(model.problem)  # (16) keep cells whose facilities all failed: gain cells
    for cv in model.problem.cover:
        for t in model.problem.years:
            reach = var_sum(model.x[fid, t] for fid in cv.facilities)
            tag = f"{names.c(cv.cell)}_{cv.kind}_{t}"
            if cv.mode == "keep" and (cv.cell, cv.kind, t) not in lost:
                if not keep:
                    continue
                key = (cv.cell, cv.kind, t)
                limit(model, f"c5_cover_{tag}", reach, 1, ">=", "cover", key)
            else:
                g = model.lp.add_variable(f"g_{tag}", cat=pulp.LpBinary)
                family = "c5" if cv.mode == "gain" else "c16"
                add_row(model.lp, f"{family}_gain_{tag}", minus(g, reach), LE, 0)
                gains.append((cv.population, g))
    return gains


def define_crowding(model: SiteModel, names: Namer) -> list[pulp.LpVariable]:
    """(6) excess facilities beyond one per urban cell, penalised in (8b)."""
    excess = []
    for cr in model.problem.crowd:
        for t in model.problem.years:
            tag = f"{names.c(cr.cell)}_{cr.kind}_{t}"
            o = model.lp.add_variable(f"o_{tag}", lowBound=0, cat=pulp.LpInteger)
            here = var_sum(model.x[fid, t] for fid in cr.facilities)
            add_row(model.lp, f"c6_crowd_{tag}", minus(o, here), GE, -1)
            excess.append(o)
    return excess


def define_protected(model: SiteModel, names: Namer) -> None:
    """(7) protected facilities never exit, nor do facilities exempt from the plan (12)."""
    for f in model.problem.facilities:
        if f.protected or f.exempt:
            exits = [(model.e[f.id, t], 1) for t in model.problem.years]
            add_row(model.lp, f"c7_protected_{names.f(f.id)}", exits, EQ, 0)


def failing_pairs(problem: SiteProblem) -> list[tuple[str, int]]:
    """(16) ``(facility, year)`` pairs below the pass mark (:meth:`SiteProblem.fails_pass_mark`)."""
    if problem.pass_mark is None:
        return []
    return [(f.id, t) for f in problem.facilities for t in problem.years
            if problem.fails_pass_mark(f, t)]


def lost_cover(problem: SiteProblem) -> set[tuple[str, str, int]]:
    """(16) ``(cell, kind, year)`` of the keep cells (5) whose existing facilities all fail the
    pass mark by that year: from then on they are gain cells (8a), not hard rows."""
    first: dict[str, int] = {}
    for fid, t in failing_pairs(problem):
        first[fid] = min(t, first.get(fid, t))
    out: set[tuple[str, str, int]] = set()
    for cv in problem.cover if first else ():
        mine = [fid for fid in cv.facilities if problem.facility(fid).existing]
        if cv.mode == "keep" and mine and all(fid in first for fid in mine):
            start = max(first[fid] for fid in mine)
            out |= {(cv.cell, cv.kind, t) for t in problem.years if t >= start}
    return out


def define_pass_mark(model: SiteModel, names: Namer) -> None:
    """(16) a facility below the pass mark in ``t`` is not designated at the end of ``t``."""
    for fid, t in failing_pairs(model.problem):
        add_row(model.lp, f"c16_pass_mark_{names.f(fid)}_{t}", [(model.x[fid, t], 1)], LE, 0)


def define_spread(model: SiteModel, names: Namer) -> list[pulp.LpVariable]:
    """(8) the busiest year's admissions + exits per county and kind, penalised in (8e)."""
    peaks = []
    for (county, kind), ids in sorted(_groups(model, "county").items()):
        u = model.lp.add_variable(f"u_{names.ar(county)}_{kind}", lowBound=0, cat=pulp.LpInteger)
        for t in model.problem.years:
            changes = var_sum([*(model.e[fid, t] for fid in ids),
                            *(model.a[fid, t] for fid in ids if (fid, t) in model.a)])
            add_row(model.lp, f"c8_peak_{names.ar(county)}_{kind}_{t}", minus(u, changes), GE, 0)
        peaks.append(u)
    return peaks


def define_near(model: SiteModel, names: Namer) -> None:
    """(9) the 800 m rule for each same-type ``g`` near applicant ``f``: ``a[f,t] + x[g,t-1] +
    a[g,t] <= 1`` (timing ``start``) or ``a[f,t] + x[g,t] <= 1`` (``end``)."""
    p = model.problem
    start = p.near_timing == "start"
    before = dict(zip(p.years, (p.base_year, *p.years[:-1]), strict=True))
    for near in p.near:
        f = p.facility(near.facility)
        if f.existing or f.exempt:
            continue
        for gid in near.others:
            g = p.facility(gid)
            for t in p.years:
                if (f.id, t) not in model.a:
                    continue
                if not g.existing and t < g.available_from:  # g cannot be designated yet
                    continue
                if start:  # x[g,t-1] is 0 before g may apply: left out
                    held = model.x[gid, before[t]] if g.existing \
                        or before[t] >= g.available_from else 0
                    other = held + model.a.get((gid, t), 0)
                else:
                    other = model.x[gid, t]
                model.lp += (model.a[f.id, t] + other <= 1,
                             f"c9_near_{names.f(f.id)}_{names.f(gid)}_{t}")


def define_gate(model: SiteModel, names: Namer) -> None:
    """(10) the fund-risk gate: no admission subject to the plan in a closed year."""
    p = model.problem
    for t in p.closed_years:
        admits = [model.a[f.id, t] for f in p.facilities
                  if (f.id, t) in model.a and not f.exempt]
        if admits:
            model.lp += (pulp.lpSum(admits) <= 0, f"c10_gate_{t}")


def define_moves(model: SiteModel, names: Namer) -> None:
    """(11) a move across management areas: the new site is admitted exactly when the old
    site exits, from the new site's application year on."""
    p = model.problem
    for f in p.facilities:
        if not f.moves_from or f.existing:
            continue
        old = f.moves_from
        for t in p.years:
            if (f.id, t) in model.a:
                model.lp += (model.a[f.id, t] - model.e[old, t] == 0,
                             f"c11_move_{names.f(f.id)}_{t}")


def define_exempt(model: SiteModel, names: Namer) -> None:
    """(12) an exempt applicant is admitted in its application year."""
    p = model.problem
    for f in p.facilities:
        if f.exempt and not f.existing and (f.id, f.available_from) in model.a:
            model.lp += (model.a[f.id, f.available_from] == 1, f"c12_exempt_{names.f(f.id)}")


def define_pause(model: SiteModel, names: Namer) -> None:
    """(17) the beds pause on outpatient clinics: no clinic admission subject to the plan in a
    paused year."""
    p = model.problem
    for t in p.paused_years:
        admits = [model.a[f.id, t] for f in p.facilities
                  if f.kind == "clinic" and (f.id, t) in model.a and not f.exempt]
        if admits:
            model.lp += (pulp.lpSum(admits) <= 0, f"c17_pause_{t}")


def define_objective(model: SiteModel, gains, crowd, peaks) -> None:
    """(8a)–(8k); in the elastic form, the sum of slacks alone."""
    if model.elastic:
        violation = linear(model.slack_vars)
        model.lp.setObjective(violation)
        model.terms = {"violation": violation}
        return
    w = model.problem.weights
    score = {f.id: f.score for f in model.problem.facilities}
    by_id = {f.id: f for f in model.problem.facilities if f.scores}  # (8c) that year's score
    terms = {
        "8a_coverage": linear((-w.coverage * pop, g) for pop, g in gains),
        "8b_crowding": linear((w.crowding, o) for o in crowd),
        "8c_exits": linear(
            (w.exit_score * (by_id[fid].score_in(t) if fid in by_id else score[fid]) + w.churn, v)
            for (fid, t), v in model.e.items()
        ),
        "8d_admissions": linear(
            (w.churn - w.admit_review * score[fid], v) for (fid, _t), v in model.a.items()
        ),
        "8e_spread": linear((w.spread, u) for u in peaks),
    }
    priority = {f.id for f in model.problem.facilities if f.priority and not f.existing}
    bonus = [v for (fid, _t), v in model.a.items() if fid in priority]
    if bonus:  # (8f) only when some applicant has a priority class
        terms["8f_priority"] = linear((-w.priority, v) for v in bonus)
    terms.update(allocation.objective_terms(model))  # (8g)–(8k), each only when something carries it
    model.terms = terms
    model.lp.setObjective(total(terms.values()))
