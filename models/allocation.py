r"""The plans' remaining allocation rules: special zones (13), pharmacy roles (14), exits before
admissions (15) and priorities (8g–8k), built into the one site model of :mod:`dingdian.models.site`.

Each family is built only from data the problem carries (:class:`~dingdian.models.data.ZoneBudget`,
:class:`~dingdian.models.data.RoleNeed`, :class:`~dingdian.models.data.ExitPlan`, ``Facility.zone``,
``.roles``, ``.favour``), all empty by default, so a problem without them builds exactly the
model it built before. The scenario loader (:mod:`dingdian.scenario.allocation`) fills them from
``allocation:`` in ``scenario.yaml``, each section with its own switch.

Sets and data (besides those of :mod:`dingdian.models.site`)
---------------------------------------------------
* :math:`Z \subseteq F^A` applicants in a special zone (张掖 五(二)2), precomputed by the loader
  from the base-year designations: a blind spot (服务覆盖盲区, no designated facility of the kind
  within 1,000 m), a weak area (服务薄弱区域, a rural cell holding no designated facility of the
  kind) or a high-demand area (购药高需求区域, within 500 m of a designated medical institution
  that has at most 3 designated pharmacies within 500 m); :math:`B_{ckt}` the override budget
  (scenario data) of county :math:`c`, kind :math:`k`, year :math:`t`; :math:`Z_{ckt}` the zone
  applicants of :math:`F_{ck}` that may be admitted in :math:`t`, when :math:`B_{ckt} > 0`.
* :math:`H_\rho` pharmacies eligible for role :math:`\rho` (``chronic`` 门诊慢特病统筹药店,
  ``dual`` 双通道药店, ``pooling`` 职工门诊统筹药店; eligible: compliant and scoring at least the
  scenario's minimum, 菏泽 二(二) 资质合规、管理规范、信誉良好); :math:`[L_{\rho c}, U_{\rho c}]` the
  number of holders county :math:`c` needs (张掖 四(二): one 门诊慢特病统筹药店 per 30,000–50,000
  urban residents, more in sparse areas; at least one 双通道药店 per county).
* :math:`O \subseteq \{(c,k)\}` over-configured counties (designated in :math:`t_0` more than the
  last target, among the counties the scenario names); :math:`P_{ckt}` their planned exits in :math:`t` (表6/表7's exit figure unless
  the scenario gives one); :math:`Y \subseteq Z` blind-spot applicants, left out of (15) when
  ``green_channel`` is set (七(三) 对服务覆盖盲区开辟准入"绿色通道").
* :math:`F^R, F^S, F^C \subseteq F^A` applicants tagged remote (a blind spot or a rural cell:
  服务盲区及农村偏远乡镇), urgently needed speciality (精神、儿童、护理) and chain pharmacy.

  The roles describe the plan's target network (四 规划目标, "到2030年…"): they are chosen for
  the target year :math:`t^*` (the last target year, 2030).

Variables (binary): :math:`v_{ft}` the admission of :math:`f\in Z_{ckt}` in :math:`t` is a
special-zone override; :math:`r_{\rho f}` pharmacy :math:`f\in H_\rho` holds role
:math:`\rho` in :math:`t^*`; :math:`q_{ckt}` the planned exits of :math:`(c,k)\in O` are done
in :math:`t`.

Constraints
-----------
(13a) zone_override  :math:`v_{ft} \le a_{ft}` — only an admission can be an override
(13b) zone_budget    :math:`\sum_{f\in Z_{ckt}} v_{ft} \le B_{ckt}`
      and in (3), (4) the override admissions are not counted:
      :math:`\sum_{f} a_{ft} - \sum_{f\in Z} v_{ft} \le A_{\cdot kt}`. The county counts (2)
      still hold: an override lifts the yearly pace, not the size of the network, so under an
      equal target it is matched by an exit. Not built under ``admit_mode="exact"``, which
      reproduces the published figures exactly.
(14a) role_x         :math:`r_{\rho f} \le x_{ft^*}` — only a designated pharmacy holds a role
(14b) role_low / role_high  :math:`L_{\rho c} \le \sum_{f\in H_\rho\cap F_c} r_{\rho f} \le
                     U_{\rho c}`
(15a) exits_done     :math:`\sum_{f\in F_{ck}} e_{ft} - P_{ckt}\, q_{ckt} \ge 0`
(15b) admit_after    :math:`a_{ft} - q_{ckt} \le 0` for :math:`f\in F_{ck}\setminus(F^X\cup Y)`
                     — a county admits in a year only when that year's planned exits are done
                     (年度退出计划未完成的区域，暂停受理新增申请; 存量退出优先于新增准入). One row
                     per applicant rather than :math:`\sum_f a_{ft} \le M q_{ckt}`: the same
                     integer points, a tighter relaxation.
(15c) admit_cap      :math:`\sum_{f\in F_{ck}\setminus(F^X\cup Y)} (a_{ft} - v_{ft}) - A_{ckt}\,
                     q_{ckt} \le 0` when the county's applicants outnumber its admissions
                     :math:`A_{ckt}` (3). Implied by (3) and (15b) at integer points; in the
                     relaxation it is the convex hull of the year's pair (admissions, exits):
                     admitting :math:`n` asks for :math:`n P_{ckt}/A_{ckt}` exits, not
                     :math:`P_{ckt}/|F|`. Measured on Zhangye with every over-configured county
                     held (HiGHS): the optimum (L1) in 7.3 s instead of 16.2 s. Left out of the
                     elastic form, where (3) may overflow.

"Planned exits done" when exits are limits (``exit_mode="at_most"``): the year's exits reach
the published exit figure of 表6/表7, the 年度退出计划 itself — not the fewer exits the targets
might need — unless the scenario gives its own planned figure. A county that needs fewer exits
than its limits allow therefore admits only in the years it exits the full figure. Exempt
admissions (12) are never held back.

Objective terms (added to (8) of :mod:`dingdian.models.site`; weights in brackets)
-------------------------------------------------------------------------
.. math::

   + w_{override}\sum_{f,t} v_{ft}                                   \quad(8g)\;[200]
   + w_{role}\sum_{\rho,f} (101-\sigma_f)\, r_{\rho f}                 \quad(8h)\;[1]
   - w_{remote}\sum_{f\in F^R} x_{fT}                                 \quad(8i)\;[50]
   - w_{speciality}\sum_{f\in F^S} x_{fT}                             \quad(8j)\;[20]
   - w_{chain}\sum_{f\in F^C} x_{fT}                                  \quad(8k)\;[10]

(8g) 200 exceeds what the admission of a zone pharmacy can earn from its review and bonuses
(95 + 50 + 10), so an override is used only for coverage (8a: 10 per person-year, so a blind
spot of 20 person-years) or when a hard rule needs it — never just to admit a better review.
(8h) makes the best-scoring eligible pharmacy the cheapest holder; every holder costs at least
1 (101, not 100, less the score), so the number of holders sits at the lower bound :math:`L`
(each role is a contract to fund) and :math:`U` is a cap.
(8i)–(8k) reward a tagged applicant designated at the end of the last year :math:`T`, which for
an applicant is :math:`\sum_t (a_{ft} - e_{ft})`: its admission, less a later exit. A bonus on
the admission alone would pay for churn — admit, exit again, admit the next — whenever it
exceeds the two churn costs (10); on :math:`x_{fT}` an admission that exits again earns
nothing. Like (8f), a bonus also favours a swap (an exit for a tagged applicant's admission)
within the exit limits. (8i) 50 beats any difference of two reviews (60–100): blind-spot and
remote-township applicants are taken first (优先受理). (8j) 20 is a head start in the public
review (经审核可优先纳入公开评议), not a guaranteed place. (8k) 10 is an encouragement
(鼓励连锁化), a tie-breaker worth ten review points. Each term is left out when nobody carries
its tag.

Elastic form: (14b) role_low gets a slack (family ``role``, 100 per missing holder) so that
:mod:`dingdian.run.explain` can name a county that cannot staff a role; (13) and (15) get none.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from dingdian.models.site_core import Namer, SiteModel, limit

#: roles in the order they are built and written
ROLES = ("chronic", "dual", "pooling")
#: priority tags (Facility.favour, also the weight's name in Weights) → the objective term
FAVOURS = {"remote": "8i_remote", "speciality": "8j_speciality", "chain": "8k_chain"}


def define_zone_overrides(model: SiteModel, names: Namer) -> None:
    """(13) override variables of zone applicants and their budget; built before (3)/(4),
    which subtract them."""
    p = model.problem
    if not p.zone_budget or p.options.admit_mode == "exact":
        return
    applicants: dict[tuple[str, str], list] = defaultdict(list)  # zone applicants, in order
    for f in p.facilities:
        if f.zone and not f.existing and not f.exempt:
            applicants[f.county, f.kind].append(f.id)
    for b in p.zone_budget:
        if b.admit <= 0:
            continue
        ids = [fid for fid in applicants.get((b.county, b.kind), ()) if (fid, b.year) in model.a]
        if not ids:
            continue
        used = []
        for fid in ids:
            n = names.f(fid)
            v = model.lp.add_variable(f"v_{n}_{b.year}", cat=pulp.LpBinary)
            model.overrides[fid, b.year] = v
            model.lp += (v - model.a[fid, b.year] <= 0, f"c13_zone_override_{n}_{b.year}")
            used.append(v)
        model.lp += (pulp.lpSum(used) <= b.admit,
                     f"c13_zone_budget_{names.ar(b.county)}_{b.kind}_{b.year}")


def overrides_in(model: SiteModel, ids, year: int):
    """The override variables of ``ids`` in ``year`` (for the quota rows (3), (4))."""
    return [model.overrides[fid, year] for fid in ids if (fid, year) in model.overrides]


def define_roles(model: SiteModel, names: Namer) -> None:
    """(14) role variables of eligible pharmacies and the county's number of holders."""
    p = model.problem
    eligible: dict[tuple[str, str], list] = defaultdict(list)  # (county, role) → ids, in order
    for f in p.facilities:
        for role in dict.fromkeys(f.roles):
            eligible[f.county, role].append(f.id)
    for need in p.roles:
        t = need.year
        ids = eligible.get((need.county, need.role), [])
        held = []
        for fid in ids:
            n = names.f(fid)
            r = model.roles.get((need.role, fid, t))
            if r is None:
                r = model.lp.add_variable(f"r_{need.role}_{n}_{t}", cat=pulp.LpBinary)
                model.roles[need.role, fid, t] = r
                model.lp += (r - model.x[fid, t] <= 0, f"c14_role_x_{need.role}_{n}_{t}")
            held.append(r)
        tag = f"{names.ar(need.county)}_{need.role}_{t}"
        limit(model, f"c14_role_low_{tag}", pulp.lpSum(held), need.low, ">=", "role",
               (need.county, need.role, t))
        if need.high is not None:
            model.lp += (pulp.lpSum(held) <= need.high, f"c14_role_high_{tag}")


def define_sequencing(model: SiteModel, names: Namer) -> None:
    """(15) an over-configured county admits in a year only once that year's planned exits
    are done; (15c) the same rule restated on the county's admission limit."""
    p = model.problem
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for f in p.facilities:
        groups[f.county, f.kind].append(f)
    quota = {(r.area, r.kind, r.year): r.admit for r in p.quotas if r.level == "county"}
    for plan in p.exit_plan:
        if plan.exits <= 0:
            continue
        members = groups.get((plan.county, plan.kind), [])
        t = plan.year
        held_ids = [f.id for f in members if (f.id, t) in model.a and not f.exempt
                    and not (p.green_channel and "blind" in f.zone.split(";"))]
        if not held_ids:
            continue
        tag = f"{names.ar(plan.county)}_{plan.kind}_{t}"
        q = model.lp.add_variable(f"q_{tag}", cat=pulp.LpBinary)
        model.switches[plan.county, plan.kind, t] = q
        exits = pulp.lpSum(model.e[f.id, t] for f in members)
        model.lp += (exits - plan.exits * q >= 0, f"c15_exits_done_{tag}")
        for f in held_ids:
            model.lp += (model.a[f, t] - q <= 0, f"c15_admit_after_{names.f(f)}_{t}")
        cap = quota.get((plan.county, plan.kind, t))
        # (15c) only where (3) is a hard limit: the elastic form lets (3) overflow
        if cap is not None and cap < len(held_ids) and not model.elastic:
            admits = (pulp.lpSum(model.a[f, t] for f in held_ids)
                      - pulp.lpSum(overrides_in(model, held_ids, t)))
            model.lp += (admits - cap * q <= 0, f"c15_admit_cap_{tag}")


def objective_terms(model: SiteModel) -> dict[str, pulp.LpAffineExpression]:
    """(8g)–(8k), each only when some variable or facility carries it."""
    p = model.problem
    w = p.weights
    terms: dict[str, pulp.LpAffineExpression] = {}
    if model.overrides:
        terms["8g_override"] = pulp.lpSum(w.override * v for v in model.overrides.values())
    if model.roles:
        score = {f.id: f.score for f in p.facilities}
        terms["8h_roles"] = pulp.lpSum(w.role * (101 - score[fid]) * r
                                       for (_role, fid, _t), r in model.roles.items())
    end = p.years[-1]
    for tag, name in FAVOURS.items():
        weight = getattr(w, tag)
        bonus = [model.x[f.id, end] for f in p.facilities
                 if tag in f.favour and not f.existing and any(
                     (f.id, t) in model.a for t in p.years)]
        if bonus:
            terms[name] = pulp.lpSum(-weight * v for v in bonus)
    return terms


def chosen(model: SiteModel, values: dict[str, float]) -> dict[str, tuple]:
    """The solution's overrides ``(facility, year)`` and roles ``(role, facility, year)``."""
    def on(var) -> bool:
        return round(values.get(var.name, 0.0)) == 1

    out: dict[str, tuple] = {}
    if model.overrides:
        out["overrides"] = tuple(sorted(k for k, v in model.overrides.items() if on(v)))
    if model.roles:
        out["roles"] = tuple(sorted(k for k, v in model.roles.items() if on(v)))
    return out
