"""Why a plan is impossible, in planners' words, each figure derived from the model.

When the site model is infeasible we do not guess. We solve its *elastic* form
(:func:`dingdian.models.site.build_site_model` with ``elastic=True``): every target (2), quota
(3)/(4) and coverage requirement (5) gets a non-negative slack and the solver minimises the
total violation, a target's unit at 1 and a quota's or cell's at 100, so a conflict is read as
the target it makes unreachable. Each non-zero slack is one line: the county or street, the
kind, the year, the figure of the scenario's table and how far the best possible plan stays
from it.

A target's line splits that amount into its causes, each with its share:

* the counted part (:mod:`dingdian.run.shortfall`): what the target needs against what the
  binding counted rule allows — the yearly limits, protection, the street limits, the
  applicants, the fund gate, the 800 m rule's barred applicants, or the previous milestone
  that the plan meets exactly — e.g.::

    甘州区 定点零售药店 (pharmacies): the 2028 target 231 needs 87 exits by 2028 (318 designated
    in 2024), the yearly exit limits (表7) allow at most 75 — 12 short

* the rules that cannot be counted, measured by solving the elastic form again with each left
  out in turn (:data:`dingdian.models.site.RELAXABLE`): keeping every covered cell covered (5),
  the 800 m rule (9), the fund-risk gate (10), moves across management areas (11), the beds
  pause on outpatient clinics (17); a rule's share is how much the shortfall falls when it is
  left out;
* what is left: the county's other targets and limits together.

So the shares add up to the amount, whatever backend solved it.
"""

from __future__ import annotations

from dingdian.models.data import SiteProblem
from dingdian.models.site import RELAXABLE, build_site_model, street_rest_quotas
from dingdian.result import FEASIBLE, OPTIMAL
from dingdian.run.backends import run_backend
from dingdian.run.shortfall import KIND_EN, KIND_ZH, count_target, label, shortfalls, table

__all__ = ["explain_infeasible", "shortfalls"]

#: the words of a rule left out (its share of a shortfall follows them)
RULE_WORDS = {
    "cover": "keeping every covered cell covered (5)",
    "near": "the 800 m rule (二(二))",
    "gate": "the fund-risk gate (二(三)1)",
    "moves": "the moves across management areas (二(二))",
    "sequencing": "存量退出优先 (五(一)4, 七(三)): a year's admissions wait until its planned exits",
    "pause": "the needed-beds pause on outpatient clinics (二(一)1)",
}


def _rule_words(p: SiteProblem, rule: str, county: str, kind: str, year: int) -> str:
    words = RULE_WORDS[rule]
    if rule == "sequencing":
        planned = [e for e in p.exit_plan if (e.county, e.kind) == (county, kind) and e.year <= year]
        words += f" ({', '.join(f'{e.year} {e.exits}' for e in planned)}) are done"
    if rule == "gate":
        words += f" closed in {', '.join(str(y) for y in p.closed_years if y <= year)}"
    if rule == "pause":
        words += f" in {', '.join(str(y) for y in p.paused_years if y <= year)}"
    return words


def _elastic(problem: SiteProblem, backend: str, time_limit, relax=frozenset()):
    """The elastic model's slack amounts by (family, key, direction), or None."""
    model = build_site_model(problem, elastic=True, relax=relax)
    status, _obj, _bound, values, message = run_backend(model, backend, time_limit)
    if status not in (OPTIMAL, FEASIBLE) or values is None:
        return None, message
    return {meta: round(values.get(name, 0.0)) for name, meta in model.slacks.items()}, message


def _present(p: SiteProblem) -> list[str]:
    """The rules of :data:`RELAXABLE` the problem has rows for."""
    has = {"cover": any(c.mode == "keep" for c in p.cover), "near": bool(p.near),
           "gate": bool(p.closed_years), "moves": any(f.moves_from for f in p.facilities),
           "sequencing": bool(p.exit_plan), "pause": bool(p.paused_years)}
    return [r for r in RELAXABLE if has[r]]


def explain_infeasible(problem: SiteProblem, backend: str = "highs",
                       time_limit: float | None = None) -> list[str]:
    """One line per violated target, quota or cell of the least-violating plan."""
    amounts, message = _elastic(problem, backend, time_limit)
    if amounts is None:
        return [f"the plan is infeasible and its elastic form could not be solved ({message}): "
                "check protected facilities and applicants' first years"]
    found = {meta: a for meta, a in amounts.items() if a > 0}
    targets = {meta: count_target(problem, *meta[1], meta[2])
               for meta in found if meta[0] == "target"}
    shares = _shares(problem, backend, time_limit, found, targets)
    lines = []
    for meta, amount in found.items():
        family, key, direction = meta
        if family == "target":
            words = {r: _rule_words(problem, r, *key) for r in shares.get(meta, {})}
            lines.append(_target_line(targets[meta], amount, shares.get(meta, {}), words))
        else:
            lines.append(_sentence(problem, family, key, direction, amount))
    return lines or ["the plan is infeasible although every target, quota and cell can be met "
                     "one by one: check protected facilities and applicants' first years"]


def _shares(p: SiteProblem, backend: str, time_limit, found: dict, targets: dict) -> dict:
    """Each target slack's shares by rule left out (only where counting does not explain it)."""
    unexplained = [m for m, c in targets.items() if found[m] > c.short]
    if not unexplained:
        return {}
    shares: dict = {m: {} for m in unexplained}
    before = {m: found[m] for m in unexplained}
    relaxed: set[str] = set()
    for rule in _present(p):
        relaxed.add(rule)
        after, _ = _elastic(p, backend, time_limit, frozenset(relaxed))
        if after is None:
            break
        for m in unexplained:
            now = after.get(m, 0)
            if before[m] > now:
                shares[m][rule] = before[m] - now
            before[m] = min(before[m], now)
    return shares


def _target_line(c, amount: int, shares: dict[str, int], words: dict[str, str]) -> str:
    """The line of a target slack: the counted part, then each rule's share, then the rest."""
    counted = min(c.short, amount)
    if counted == amount:
        return f"{c.head}, {c.reason} — {amount} short"
    parts = [f"{c.reason} — {counted}"] if counted else []
    parts += [f"{words[r]} — {x}" for r, x in shares.items()]
    rest = amount - counted - sum(shares.values())
    if rest > 0:
        parts.append(f"the county's other targets and yearly limits together — {rest}")
    return f"{c.head}; {amount} short: {'; '.join(parts)}"


def _sentence(p: SiteProblem, family: str, key: tuple, direction: str, amount: int) -> str:
    if family == "role":
        return _role_sentence(p, *key, amount)
    if family == "cover":
        cell, kind, year = key
        return (f"cell {cell} ({KIND_EN[kind]}): no {KIND_ZH[kind]} left within reach in {year} "
                f"— the targets and exit limits cannot keep this populated cell covered")
    level, what = family.split("_")
    area, kind, year = key
    failed = _pass_mark_words(p, level, area, kind, year) if what == "exit" else ""
    quotas = [q for q, _ids in street_rest_quotas(p)] if level == "rest" else p.quotas
    limit = next(getattr(q, what) for q in quotas
                 if (q.level, q.area, q.kind, q.year) == (level, area, kind, year))
    if level == "rest":
        area = f"{area} outside its planned streets"
    word = "admissions" if what == "admit" else "exits"
    name = table(p, level, kind)
    if direction == "+":
        return (f"{label(area, kind)}: {year} needs {limit + amount} {word}, the limit in "
                f"{name} is {limit}{failed} — {amount} over")
    why = ""
    if what == "admit" and year in p.closed_years:
        reasons = {g.year: g.reasons for g in p.gate}
        why = f" (the fund-risk gate (二(三)1) is closed in {year}: {reasons.get(year, '')})"
    return (f"{label(area, kind)}: {year} can make only {limit - amount} {word}, {name} "
            f"publishes exactly {limit}{why} — {amount} short")


def _pass_mark_words(p: SiteProblem, level: str, area: str, kind: str, year: int) -> str:
    """' (3 score below the pass mark 60 in 2025 and must exit: 考核不达标, 五(一)2)' when the
    pass mark (16) forces exits into the area's limit of that year."""
    if p.pass_mark is None or not p.pass_mark_within_limits:
        return ""
    rest = {fid for q, ids in street_rest_quotas(p) if (q.area, q.kind, q.year) ==
            (area, kind, year) for fid in ids} if level == "rest" else set()
    due = [f for f in p.facilities if (f.id in rest if level == "rest" else
                                       getattr(f, level) == area) and f.kind == kind
           and f.existing and p.fails_pass_mark(f, year)
           and not any(p.fails_pass_mark(f, t) for t in p.years if t < year)]
    if not due:
        return ""
    return (f" ({len(due)} score below the pass mark {p.pass_mark} in {year} and must exit: "
            f"考核不达标, 五(一)2)")


def _role_sentence(p: SiteProblem, county: str, role: str, year: int, amount: int) -> str:
    """A county that cannot staff a pharmacy role (14)."""
    from dingdian.scenario.allocation import ROLE_LABELS

    need = next(n for n in p.roles if (n.county, n.role, n.year) == (county, role, year))
    eligible = [f for f in p.facilities if f.county == county and role in f.roles]
    return (f"{county} {ROLE_LABELS[role]}: {year} needs at least {need.low} holder(s) among "
            f"designated eligible pharmacies (compliant, score at least the minimum), "
            f"{len(eligible)} pharmacies are eligible and the targets and exits leave "
            f"{need.low - amount} — {amount} short")
