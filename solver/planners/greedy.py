"""A planner's greedy plan by hand, to compare with the model's optimum (benchmarks/peers.py).

What a planner does with the plan's tables and a list of scores, ignoring coverage:

* per county and kind, year by year (2025 → 2030), aiming at the next milestone target
  (the 2028 figure of 表2/表3 up to 2028, then the 2030 figure);
* **admissions** (择优准入): the best-reviewed available applicants (score high → low, then id),
  up to the year's admission figure (表6/表7), but never more than the remaining exit figures
  up to the milestone can take back out again;
* **exits** (末位淘汰): the lowest-scoring designated facilities (score low → high, then id) that
  are not protected or exempt and were not admitted this year, as many as the count exceeds the
  milestone target, up to the year's exit figure — as early as the figures allow;
* the street figures (表8/表9) and the rest of the county are respected the same way: a
  facility is skipped when its street's (or the rest's) figure for the year is used up;
* coverage (keep cells, blind spots) and the one-per-cell rule are not looked at.

A year without a quota row has no limit, as in the model. The result has the shape of
:attr:`dingdian.result.SolveResult.designated`: one row per facility id, one 0/1 column per year
from the base year. :func:`dingdian.check.verify.residuals` then says which rules the greedy plan breaks.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from dingdian.models.data import Facility, SiteProblem
from dingdian.models.site import street_rest_quotas

UNLIMITED = math.inf


class _Figures:
    """What is left of each yearly admission and exit figure, county and street (or rest)."""

    ADMIT, EXIT = 0, 1

    def __init__(self, problem: SiteProblem):
        self.left: dict[tuple, list[float]] = {}
        for q in problem.quotas:
            if q.level == "county" or problem.options.street_quotas:
                self.left[q.level, q.area, q.kind, q.year] = [q.admit, q.exit]
        self.below: dict[str, tuple[str, str]] = {}  # facility -> (street | rest, area)
        if problem.options.street_quotas:
            for rest, ids in street_rest_quotas(problem):
                self.left["rest", rest.area, rest.kind, rest.year] = [rest.admit, rest.exit]
                for fid in ids:
                    self.below[fid] = ("rest", rest.area)
            streets = {q.area for q in problem.quotas if q.level == "street"}
            for f in problem.facilities:
                if f.street in streets:
                    self.below[f.id] = ("street", f.street)

    def county(self, f: Facility, year: int, which: int) -> float:
        row = self.left.get(("county", f.county, f.kind, year))
        return UNLIMITED if row is None else row[which]

    def take(self, f: Facility, year: int, which: int) -> bool:
        """Use one unit of ``f``'s county and street (rest) figures, if both have one left."""
        rows = [self.left.get(("county", f.county, f.kind, year))]
        if f.id in self.below:
            rows.append(self.left.get((*self.below[f.id], f.kind, year)))
        rows = [r for r in rows if r is not None]
        if any(r[which] < 1 for r in rows):
            return False
        for r in rows:
            r[which] -= 1
        return True


def _pick(pool: list[Facility], count: float, figures: _Figures, year: int, which: int):
    """Take facilities from ``pool`` in order, up to ``count``, skipping any whose street
    figure is used up, until the county figure is used up."""
    out = []
    for f in pool:
        if len(out) >= count or figures.county(f, year, which) < 1:
            break
        if figures.take(f, year, which):
            out.append(f.id)
    return out


def greedy_plan(problem: SiteProblem) -> pd.DataFrame:
    """The greedy plan of the module docstring (facility × year, 0/1)."""
    years = (problem.base_year, *problem.years)
    figures = _Figures(problem)
    targets: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for tg in problem.targets:
        targets[tg.county, tg.kind].append((tg.year, tg.count))
    groups: dict[tuple[str, str], list[Facility]] = defaultdict(list)
    for f in problem.facilities:
        groups[f.county, f.kind].append(f)
    state = {f.id: {problem.base_year: int(f.existing)} for f in problem.facilities}
    for key, members in groups.items():
        on = {f.id for f in members if f.existing}
        done: set[str] = set()  # admitted once (never again) or exited (never back)
        milestones = sorted(targets.get(key, []))
        for t in problem.years:
            ahead = [(y, n) for y, n in milestones if y >= t]
            if ahead:
                until, goal = ahead[0]
                probe = members[0]
                exits_ahead = sum(figures.county(probe, y, _Figures.EXIT)
                                  for y in problem.years if t <= y <= until)
                pool = sorted((f for f in members if not f.existing and f.id not in done
                               and f.available_from <= t), key=lambda f: (-f.score, f.id))
                admitted = _pick(pool, goal - len(on) + exits_ahead, figures, t, _Figures.ADMIT)
                on.update(admitted)
                done.update(admitted)
                pool = sorted((f for f in members if f.id in on and f.id not in admitted
                               and not f.protected and not f.exempt),
                              key=lambda f: (f.score, f.id))
                gone = _pick(pool, len(on) - goal, figures, t, _Figures.EXIT)
                on.difference_update(gone)
                done.update(gone)
            for f in members:
                state[f.id][t] = int(f.id in on)
    frame = pd.DataFrame.from_dict(state, orient="index")[list(years)]
    frame.index.name = "facility_id"
    return frame.loc[[f.id for f in problem.facilities]].astype(int)
