"""How far a target is out of reach, counted: the arithmetic a planner can check by hand.

For a county, kind and target year, :func:`count_target` counts what the target needs (exits
when the count stays above it, ``direction "+"``; admissions when below, ``"-"``) and what the
rules that can be counted allow: the yearly limits of the county's quota table, the facilities
that are not protected, the street limits, the applicants available, the fund-risk gate's closed
years, the 800 m rule's applicants barred for good, the moves. The smallest of these is the
*capacity*, and the reason named is the one that gives it.

When the targets are met exactly (``target_mode: equal``) and an earlier milestone (2028) comes
before the target (2030), the count between them is counted too: the later target starts from
the earlier one, so "the 2030 target needs 4 net admissions after the 2028 target, the limits of
2029–2030 allow 2" can be the binding reason even when the plan could reach 2030 from 2024.

:func:`shortfalls` applies it to every target before any solve (``dingdian validate``);
:func:`dingdian.run.explain.explain_infeasible` uses it to say the counted part of each
shortfall the elastic solve finds, and measures the rest (coverage, the 800 m rule …) by
leaving those rules out.
"""

from __future__ import annotations

from dataclasses import dataclass

from dingdian.models.data import SiteProblem
from dingdian.models.site import street_rest_quotas

KIND_ZH = {"clinic": "无住院服务定点医疗机构", "pharmacy": "定点零售药店"}
KIND_EN = {"clinic": "clinics", "pharmacy": "pharmacies"}
#: how a yearly-limit table is called when the scenario does not name it (``table_names:``)
GENERIC = {"county": "the county quotas", "street": "the street quotas",
           "rest": "the county quotas less the street quotas"}


def label(area: str, kind: str) -> str:
    return f"{area} {KIND_ZH[kind]} ({KIND_EN[kind]})"


def table(p: SiteProblem, level: str, kind: str) -> str:
    """The scenario's own name of a yearly-limit table (表7), or a description."""
    names = dict(p.table_names)
    if level == "rest":
        county, street = names.get(f"county_{kind}"), names.get(f"street_{kind}")
        return f"{county} less {street}" if county and street else GENERIC["rest"]
    return names.get(f"{level}_{kind}") or GENERIC[level]


@dataclass(frozen=True)
class Count:
    """What a target needs and what the counted rules allow: ``need`` exits or admissions,
    ``capacity`` the most the binding rule allows, ``reason`` its words, ``head`` the sentence
    up to the need (the target, from where it is counted)."""

    head: str
    need: int
    capacity: int
    reason: str

    @property
    def short(self) -> int:
        return max(0, self.need - self.capacity)


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


def zone_overrides(p: SiteProblem, county: str, kind: str, year: int, after: int = 0) -> int:
    """Most special-zone overrides (13) of ``county`` and ``kind`` in (after, year]: the budget,
    at most one per zone applicant."""
    if p.options.admit_mode == "exact":
        return 0
    budget = sum(b.admit for b in p.zone_budget
                 if (b.county, b.kind) == (county, kind) and after < b.year <= year)
    zone = sum(1 for f in p.facilities if (f.county, f.kind) == (county, kind) and f.zone
               and not f.existing and not f.exempt and f.available_from <= year)
    return min(budget, zone)


def street_exit_capacity(p: SiteProblem, ids, year: int) -> int:
    """Most existing facilities that can exit by ``year`` given street limits and protection.

    Facilities in a planned street share its street exits; the rest of the county shares what
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


def _binding(options: list[tuple[int, str]]) -> tuple[int, str]:
    """The smallest capacity and its words (the first listed on a tie)."""
    return min(options, key=lambda o: o[0])


def count_target(p: SiteProblem, county: str, kind: str, year: int, direction: str) -> Count:
    """The counted need and capacity of one target (module docstring); the binding one of the
    count from the base year and, with exact targets, from the previous milestone."""
    base = _from_base(p, county, kind, year, direction)
    earlier = [t for t in p.targets if (t.county, t.kind) == (county, kind) and t.year < year]
    if p.options.target_mode != "equal" or not earlier:
        return base
    anchored = _from_milestone(p, county, kind, year, direction, max(earlier, key=lambda t: t.year))
    return anchored if anchored.short > base.short else base


def _from_base(p: SiteProblem, county: str, kind: str, year: int, direction: str) -> Count:
    ids = [f for f in p.facilities if f.county == county and f.kind == kind]
    existing = sum(f.existing for f in ids)
    # exempt applicants are admitted in their application year whatever the plan says (12)
    forced = [f for f in ids if f.exempt and not f.existing and f.available_from <= year]
    plus = f", plus {_exempt_words(forced)}" if forced else ""
    target = next(t.count for t in p.targets if (t.county, t.kind, t.year) == (county, kind, year))
    quotas = [q for q in p.quotas
              if (q.level, q.area, q.kind) == ("county", county, kind) and q.year <= year]
    t0 = p.base_year
    name = table(p, "county", kind)
    if direction == "+":  # the count stays above the target: not enough exits
        need = existing + len(forced) - target
        head = (f"{label(county, kind)}: the {year} target {target} needs {need} exits by {year} "
                f"({existing} designated in {t0}{plus})")
        movable = sum(bool(f.existing and not f.protected and not f.exempt) for f in ids)
        # existing facilities that asked to move leave only by moving (11)
        movers = {f.moves_from for f in p.facilities
                  if f.moves_from and not f.existing and f.available_from <= year}
        locked = sum(bool(f.existing and not f.protected and not f.exempt and f.id in movers)
                     for f in ids)
        options = []
        if quotas:  # no rows: no limit
            exits = sum(q.exit for q in quotas)
            options.append((exits, f"the yearly exit limits ({name}) allow at most {exits}"))
        options.append((movable, f"only {movable} of them are not protected (村卫生室 and other "
                                 "protected classes)"))
        if locked:
            options.append((movable - locked, (
                f"{locked} of the {movable} that are not protected asked to move their address "
                "to another management area (二(二) 跨医保管理区域变更注册地址) and leave only by "
                "moving, which the destination's admission limits, the 800 m rule or the "
                f"fund-risk gate forbid: at most {movable - locked}")))
        if p.options.street_quotas and any(q.level == "street" for q in p.quotas):
            streets = street_exit_capacity(p, ids, year)
            options.append((streets, f"the street exit limits ({table(p, 'street', kind)}) and "
                                     f"protection allow at most {streets}"))
        capacity, reason = _binding(options)
        return Count(head, need, capacity, reason)
    need = target - existing - len(forced)
    head = (f"{label(county, kind)}: the {year} target {target} needs {need} net admissions by "
            f"{year} ({existing} designated in {t0}{plus})")
    applicants = [f for f in ids if not f.existing and not f.exempt and f.available_from <= year]
    closed = [t for t in p.closed_years if t <= year]
    open_years = [t for t in p.years if t <= year and t not in closed]
    open_applicants = [f for f in applicants if any(t >= f.available_from for t in open_years)]
    near = {n.facility: n.others for n in p.near}
    blocked = [f for f in open_applicants if any(_never_leaves(p, g) for g in near.get(f.id, ()))]
    zone_extra = zone_overrides(p, county, kind, year)
    options = []
    if quotas:
        admits = sum(q.admit for q in quotas) + zone_extra
        words = (f"the yearly admission limits ({name}) and {zone_extra} special-zone "
                 f"override(s) (五(二)2) allow at most {admits}") if zone_extra else \
            f"the yearly admission limits ({name}) allow at most {admits}"
        options.append((admits, words))
        if closed:
            open_admits = sum(q.admit for q in quotas if q.year not in closed) + zone_extra
            options.append((open_admits, f"{_gate_words(p, closed)}, and the admission limits "
                                         f"({name}) of the other years allow at most "
                                         f"{open_admits}"))
    options.append((len(applicants), f"only {len(applicants)} applicants are available by "
                                      f"{year}"))
    if closed:
        options.append((len(open_applicants), f"{_gate_words(p, closed)}, and only "
                                               f"{len(open_applicants)} applicants are available "
                                               "in the other years"))
    if blocked:
        metres = f"{p.near[0].radius_m:.0f}"
        left = len(open_applicants) - len(blocked)
        options.append((left, (
            f"the {metres} m rule (二(二) 周边{metres}米内有同类型定点医药机构的原则上不再新增) bars "
            f"{len(blocked)} of the {len(open_applicants)} applicants for good (a designated "
            f"{kind} that never exits lies within {metres} m of "
            f"{', '.join(f.id for f in blocked)}): at most {left}")))
    capacity, reason = _binding(options)
    return Count(head, need, capacity, reason)


def _from_milestone(p: SiteProblem, county: str, kind: str, year: int, direction: str,
                    earlier) -> Count:
    """The count from the previous milestone's exact target to this one."""
    ids = [f for f in p.facilities if f.county == county and f.kind == kind]
    target = next(t.count for t in p.targets if (t.county, t.kind, t.year) == (county, kind, year))
    m, start = earlier.year, earlier.count
    forced = [f for f in ids if f.exempt and not f.existing and m < f.available_from <= year]
    quotas = [q for q in p.quotas
              if (q.level, q.area, q.kind) == ("county", county, kind) and m < q.year <= year]
    span = f"{m + 1}–{year}" if year > m + 1 else str(year)
    name = table(p, "county", kind)
    after = (f"after the {m} target {start}, which the plan meets exactly"
             + (f", plus {_exempt_words(forced)}" if forced else ""))
    if direction == "+":
        need = start + len(forced) - target
        head = f"{label(county, kind)}: the {year} target {target} needs {need} exits in {span} ({after})"
        exits = sum(q.exit for q in quotas) if quotas else need
        return Count(head, need, exits, f"the yearly exit limits ({name}) of {span} allow at "
                                        f"most {exits}")
    need = target - start - len(forced)
    head = (f"{label(county, kind)}: the {year} target {target} needs {need} net admissions in "
            f"{span} ({after})")
    applicants = sum(bool(not f.existing and not f.exempt and f.available_from <= year)
                     for f in ids)
    options = [(applicants, f"only {applicants} applicants are available by {year}")]
    if quotas:
        admits = sum(q.admit for q in quotas) + zone_overrides(p, county, kind, year, after=m)
        options.insert(0, (admits, f"the yearly admission limits ({name}) of {span} allow at "
                                   f"most {admits}"))
    capacity, reason = _binding(options)
    return Count(head, need, capacity, reason)


def shortfalls(p: SiteProblem) -> list[str]:
    """Targets no plan can reach, found without solving (``dingdian validate``), one sentence
    each in the words of :func:`dingdian.run.explain.explain_infeasible`.

    A necessary condition only: coverage, the 800 m rule or the fund gate may still leave no
    plan, which the elastic solve of :func:`~dingdian.run.explain.explain_infeasible` finds.
    """
    out = []
    for t in p.targets:
        for direction in ("+", "-"):
            if direction == "-" and p.options.target_mode == "at_most":
                continue  # a cap: nothing has to be admitted
            c = count_target(p, t.county, t.kind, t.year, direction)
            if c.need > 0 and c.short > 0:
                out.append(f"{c.head}, {c.reason} — {c.short} short")
    return out
