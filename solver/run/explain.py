"""Why a plan is impossible, in planners' words.

When the site model is infeasible we do not guess. We solve its *elastic* form
(:func:`dingdian.models.site.build_site_model` with ``elastic=True``): every target (2), quota (3)/(4)
and coverage requirement (5) gets a non-negative slack and the solver minimises the total
violation. Each non-zero slack is one reason, turned here into a sentence that names the county
or street, the kind, the year, the figure from the plan's table and how far the best possible
plan stays from it, together with the arithmetic a planner can check by hand, e.g.::

    甘州区 定点零售药店 (pharmacies): the 2028 target 231 needs 87 exits by 2028 (318 designated
    in 2024), the yearly exit limits (表7) allow at most 75 — 12 short.

The rules of the Heze plan (dingdian.models.site (9)–(12)) have no slack; when one of them is what makes
a target or a quota impossible, the sentence names it: the fund-risk gate (二(三)1) and its
failing conditions, the 800 m rule (二(二)), a move across management areas (二(二)), or the
admissions exempt from the plan (二(三)2, 二(三)3, 2025-03-01) that count towards a cap.
"""

from __future__ import annotations

from dingdian.models.data import SiteProblem
from dingdian.models.site import build_site_model, street_rest_quotas
from dingdian.result import FEASIBLE, OPTIMAL
from dingdian.run.backends import run_backend

KIND_ZH = {"clinic": "无住院服务定点医疗机构", "pharmacy": "定点零售药店"}
KIND_EN = {"clinic": "clinics", "pharmacy": "pharmacies"}
TABLE = {("county", "clinic"): "表6", ("county", "pharmacy"): "表7",
         ("street", "clinic"): "表8", ("street", "pharmacy"): "表9",
         ("rest", "clinic"): "表6 less 表8", ("rest", "pharmacy"): "表7 less 表9"}


def _label(area: str, kind: str) -> str:
    return f"{area} {KIND_ZH[kind]} ({KIND_EN[kind]})"


def explain_infeasible(problem: SiteProblem, backend: str = "highs",
                       time_limit: float | None = None) -> list[str]:
    """One line per violated target, quota or cell of the least-violating plan."""
    model = build_site_model(problem, elastic=True)
    status, _obj, _bound, values, message = run_backend(model, backend, time_limit)
    if status not in (OPTIMAL, FEASIBLE) or values is None:
        return [f"the plan is infeasible and its elastic form could not be solved ({message}): "
                "check protected facilities and applicants' first years"]
    lines = []
    for name, (family, key, direction) in model.slacks.items():
        amount = round(values.get(name, 0.0))
        if amount > 0:
            lines.append(_sentence(problem, family, key, direction, amount))
    return lines or ["the plan is infeasible although every target, quota and cell can be met "
                     "one by one: check protected facilities and applicants' first years"]


def _sentence(p: SiteProblem, family: str, key: tuple, direction: str, amount: int) -> str:
    if family == "target":
        return _target_sentence(p, *key, direction, amount)
    if family == "role":
        return _role_sentence(p, *key, amount)
    if family == "cover":
        cell, kind, year = key
        return (f"cell {cell} ({KIND_EN[kind]}): no {KIND_ZH[kind]} left within reach in {year} "
                f"— the targets and exit limits cannot keep this populated cell covered")
    level, what = family.split("_")
    area, kind, year = key
    quotas = [q for q, _ids in street_rest_quotas(p)] if level == "rest" else p.quotas
    limit = next(getattr(q, what) for q in quotas
                 if (q.level, q.area, q.kind, q.year) == (level, area, kind, year))
    if level == "rest":
        area = f"{area} outside its planned streets"
    word = "admissions" if what == "admit" else "exits"
    table = TABLE[level, kind]
    if direction == "+":
        return (f"{_label(area, kind)}: {year} needs {limit + amount} {word}, the limit in "
                f"{table} is {limit} — {amount} over")
    why = ""
    if what == "admit" and year in p.closed_years:
        why = f" ({_gate_words(p, [year])})"
    return (f"{_label(area, kind)}: {year} can make only {limit - amount} {word}, {table} "
            f"publishes exactly {limit}{why} — {amount} short")


def _gate_words(p: SiteProblem, years) -> str:
    """'the fund-risk gate (二(三)1) is closed in 2026 (reasons), 2027 (reasons)'."""
    reasons = {g.year: g.reasons for g in p.gate}
    parts = [f"{y}: {reasons[y]}" if reasons.get(y) else str(y) for y in years]
    return f"the fund-risk gate (二(三)1) is closed in {'; '.join(parts)}"


def _exempt_words(forced) -> str:
    rules = sorted({f.exempt for f in forced})
    return (f"{len(forced)} admitted exempt from the plan ({', '.join(rules)}: "
            f"{', '.join(f.id for f in forced)})")


def _never_leaves(p: SiteProblem, fid: str) -> bool:
    f = p.facility(fid)
    return f.existing and (f.protected or bool(f.exempt))


def _target_sentence(p: SiteProblem, county: str, kind: str, year: int, direction: str,
                     amount: int) -> str:
    ids = [f for f in p.facilities if f.county == county and f.kind == kind]
    existing = sum(f.existing for f in ids)
    movable = sum(f.existing and not f.protected and not f.exempt for f in ids)
    # exempt applicants are admitted in their application year whatever the plan says (12)
    forced = [f for f in ids if f.exempt and not f.existing and f.available_from <= year]
    plus = f", plus {_exempt_words(forced)}" if forced else ""
    target = next(t.count for t in p.targets if (t.county, t.kind, t.year) == (county, kind, year))
    quotas = [q for q in p.quotas
              if (q.level, q.area, q.kind) == ("county", county, kind) and q.year <= year]
    t0 = p.base_year
    head = f"{_label(county, kind)}: the {year} target {target}"
    if direction == "+":  # the count stays above the target: not enough exits
        need = existing + len(forced) - target
        exits = sum(q.exit for q in quotas) if quotas else need  # no rows: no limit
        streets = _street_exit_capacity(p, ids, year)
        # existing facilities that asked to move leave only by moving (11)
        movers = {f.moves_from for f in p.facilities
                  if f.moves_from and not f.existing and f.available_from <= year}
        locked = sum(f.existing and not f.protected and not f.exempt and f.id in movers
                     for f in ids)
        if exits < need:
            why = f"the yearly exit limits ({TABLE['county', kind]}) allow at most {exits}"
        elif movable < need:
            why = f"only {movable} of them are not protected (村卫生室 and other protected classes)"
        elif movable - locked < need:
            why = (f"{locked} of the {movable} that are not protected asked to move their address "
                   "to another management area (二(二) 跨医保管理区域变更注册地址) and leave only by "
                   "moving, which the destination's admission limits, the 800 m rule or the "
                   "fund-risk gate forbid")
        elif streets < need:
            why = (f"the street exit limits ({TABLE['street', kind]}) and protection allow at "
                   f"most {streets}")
        else:
            why = "keeping every covered cell covered stops the remaining exits"
        return (f"{head} needs {need} exits by {year} ({existing} designated in {t0}{plus}), "
                f"{why} — {amount} short")
    need = target - existing - len(forced)
    admits = sum(q.admit for q in quotas) if quotas else need  # no rows: no limit
    applicants = [f for f in ids if not f.existing and not f.exempt and f.available_from <= year]
    closed = [t for t in p.closed_years if t <= year]
    open_years = [t for t in p.years if t <= year and t not in closed]
    open_admits = (sum(q.admit for q in quotas if q.year not in closed) if quotas
                   else need)
    open_applicants = [f for f in applicants if any(t >= f.available_from for t in open_years)]
    near = {n.facility: n.others for n in p.near}
    blocked = [f for f in open_applicants
               if any(_never_leaves(p, g) for g in near.get(f.id, ()))]
    zone_extra = _zone_overrides(p, county, kind, year)
    admits += zone_extra
    planned = [e for e in p.exit_plan if (e.county, e.kind) == (county, kind) and e.year <= year]
    if admits < need:
        why = f"the yearly admission limits ({TABLE['county', kind]}) allow at most {admits}"
        if zone_extra:
            why = (f"the yearly admission limits ({TABLE['county', kind]}) and {zone_extra} "
                   f"special-zone override(s) (五(二)2) allow at most {admits}")
    elif closed and open_admits < need:
        why = (f"{_gate_words(p, closed)}, and the admission limits ({TABLE['county', kind]}) "
               f"of the other years allow at most {open_admits}")
    elif len(applicants) < need:
        why = f"only {len(applicants)} applicants are available by {year}"
    elif closed and len(open_applicants) < need:
        why = (f"{_gate_words(p, closed)}, and only {len(open_applicants)} applicants are "
               f"available in the other years")
    elif blocked and len(open_applicants) - len(blocked) < need:
        metres = f"{p.near[0].radius_m:.0f}"
        why = (f"the {metres} m rule (二(二) 周边{metres}米内有同类型定点医药机构的原则上不再新增) "
               f"bars {len(blocked)} of the {len(open_applicants)} applicants for good: a "
               f"designated {kind} that never exits lies within {metres} m of "
               f"{', '.join(f.id for f in blocked)}")
    elif planned:
        figures = ", ".join(f"{e.year} {e.exits}" for e in planned)
        why = (f"存量退出优先 (五(一)4, 七(三)): a year's admissions wait until its planned exits "
               f"({figures}) are done, which takes the count below the target")
    elif p.near:
        why = ("exits forced elsewhere (exact exits, coverage) or the 800 m rule (二(二)) "
               "leave too few designated")
    else:
        why = "exits forced elsewhere (exact exits, coverage) leave too few designated"
    return (f"{head} needs {need} net admissions by {year} ({existing} designated in {t0}"
            f"{plus}), {why} — {amount} short")


def _zone_overrides(p: SiteProblem, county: str, kind: str, year: int) -> int:
    """Most special-zone overrides (13) of ``county`` and ``kind`` by ``year``: the budget, at
    most one per zone applicant."""
    if p.options.admit_mode == "exact":
        return 0
    budget = sum(b.admit for b in p.zone_budget
                 if (b.county, b.kind) == (county, kind) and b.year <= year)
    zone = sum(1 for f in p.facilities if (f.county, f.kind) == (county, kind) and f.zone
               and not f.existing and not f.exempt and f.available_from <= year)
    return min(budget, zone)


def _role_sentence(p: SiteProblem, county: str, role: str, year: int, amount: int) -> str:
    """A county that cannot staff a pharmacy role (14)."""
    from dingdian.scenario.allocation import ROLE_LABELS

    need = next(n for n in p.roles if (n.county, n.role, n.year) == (county, role, year))
    eligible = [f for f in p.facilities if f.county == county and role in f.roles]
    return (f"{county} {ROLE_LABELS[role]}: {year} needs at least {need.low} holder(s) among "
            f"designated eligible pharmacies (compliant, score at least the minimum), "
            f"{len(eligible)} pharmacies are eligible and the targets and exits leave "
            f"{need.low - amount} — {amount} short")


def _street_exit_capacity(p: SiteProblem, ids, year: int) -> int:
    """Most existing facilities that can exit by ``year`` given street limits and protection.

    Facilities in a planned street share its 表8/表9 exits; the rest of the county shares what
    the county figure leaves (see :func:`dingdian.models.site.street_rest_quotas`).
    """
    if not ids or not p.options.street_quotas:
        return len(ids)
    county, kind = ids[0].county, ids[0].kind
    limits: dict[str, int] = {}
    for q in p.quotas:
        if q.level == "street" and q.kind == kind and q.year <= year:
            limits[q.area] = limits.get(q.area, 0) + q.exit
    rest = [q for q, _ in street_rest_quotas(p)
            if q.area == county and q.kind == kind and q.year <= year]
    movable: dict[str, int] = {}
    for f in ids:
        if f.existing and not f.protected:
            key = f.street if f.street in limits else "" if not rest else "\0rest"
            movable[key] = movable.get(key, 0) + 1
    if rest:
        limits["\0rest"] = sum(q.exit for q in rest)
    return sum(min(n, limits[s]) if s in limits else n for s, n in movable.items())


def shortfalls(p: SiteProblem) -> list[str]:
    """Targets no plan can reach, found without solving, in the words of
    :func:`explain_infeasible` (``dingdian validate``).

    For each county, kind and target year: the exits the target needs against the yearly exit
    limits, the facilities that are not protected and the street limits; the admissions it
    needs against the admission limits (and special-zone overrides) and the applicants
    available by then. A necessary condition only: coverage, the 800 m rule or the fund gate
    may still leave no plan, which the elastic solve of :func:`explain_infeasible` finds.
    """
    out = []
    for t in p.targets:
        ids = [f for f in p.facilities if f.county == t.county and f.kind == t.kind]
        existing = sum(f.existing for f in ids)
        forced = sum(bool(f.exempt) and not f.existing and f.available_from <= t.year
                     for f in ids)
        quotas = [q for q in p.quotas if (q.level, q.area, q.kind) == ("county", t.county, t.kind)
                  and q.year <= t.year]
        need = existing + forced - t.count
        if need > 0:
            exits = sum(q.exit for q in quotas) if quotas else need
            movable = sum(bool(f.existing and not f.protected and not f.exempt) for f in ids)
            room = min(exits, movable, _street_exit_capacity(p, ids, t.year))
            if room < need:
                out.append(_target_sentence(p, t.county, t.kind, t.year, "+", need - room))
        need = t.count - existing - forced
        if need > 0 and p.options.target_mode != "at_most":
            admits = (sum(q.admit for q in quotas) if quotas else need) \
                + _zone_overrides(p, t.county, t.kind, t.year)
            applicants = sum(bool(not f.existing and not f.exempt and f.available_from <= t.year)
                             for f in ids)
            room = min(admits, applicants)
            if room < need:
                out.append(_target_sentence(p, t.county, t.kind, t.year, "-", need - room))
    return out
