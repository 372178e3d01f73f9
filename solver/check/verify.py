"""Residual checks: recompute every rule from a written plan, in plain pandas.

Nothing here looks at the solver or the model. The input is ``plan.csv`` as a frame (one row per
facility, ``kind, county, street, protected, status`` and one 0/1 column per year) and the rules
(targets, quotas, cells) as given to the model; the output is a list of violations in words,
empty when the plan holds. It is run after every solve (``dingdian solve`` refuses to call a plan
verified otherwise) and by the tests on every backend.

Checks, numbered as the model's constraints:

1. paths — existing facilities start designated, applicants outside; nobody is admitted before
   the first year they applied for, admitted twice, or comes back after an exit;
2. county targets at each milestone (equal, or at most);
3. yearly county admissions and exits within (or equal to) 表6/表7;
4. the same per street (表8/表9), and for a county's facilities outside its planned streets
   (the county figure less the streets' sum);
5. every keep cell has a designated facility of its kind within reach in every year — the
   scenario check recomputes the distances from the plan's lon/lat, not from the model's lists;
7. protected facilities never exit;

and the rules of the Heze plan, when the scenario has them:

9. the 800 m rule (二(二)): no applicant subject to the plan is admitted in a year that begins
   with a designated facility of its type within the radius or in which such a facility is
   admitted (``near_timing: start``), or in a year that ends with one designated (``end``) —
   from the model's lists, and again from the plan's lon/lat in the projected CRS
   (:func:`near_residuals`, the type being the kind or the category, ``rules.near_type``);
10. the fund-risk gate (二(三)1): no admission subject to the plan in a closed year;
11. moves (二(二)): from its application year on, the new address is admitted exactly in the year
    the old one exits;
12. exempt facilities (二(三)2, 二(三)3, 2025-03-01) are admitted in their application year and
    never exit; their admissions are not counted in the quotas (3), (4);
17. the beds pause on outpatient clinics (二(一)1, ``rules.bed_pause_outpatient``): no clinic
    admission subject to the plan in a paused year;

and the allocation rules (:mod:`dingdian.write.allocation`), when the scenario has them:

13. special-zone overrides (plan.csv's ``approval``) are admissions of zone applicants within
    each county's budget, not counted in (3), (4);
14. role holders (``role_<code>``) are designated, eligible, and as many as each county needs;
15. an over-configured county admits only in years whose planned exits are done;

and the quality rule, when the scenario has a pass mark:

16. no facility is designated at the end of a year whose score (the scores table's, else
    facilities.csv's) is below the pass mark (张掖 五(一)2 考核不达标); with
    ``pass_mark_exits: outside`` these exits are not counted in (3), (4).

The facility attributes of these rules (``exempt_rule``, ``moves_from``) are read from the
plan's own columns when it has them, else from the scenario's problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dingdian.models.data import SiteProblem
from dingdian.models.site import failing_pairs, lost_cover, street_rest_quotas
from dingdian.write import allocation as allocation_report


def _text(column: pd.Series) -> pd.Series:
    """A text column with '' for missing values (an all-empty CSV column reads as float NaN)."""
    return column.astype(object).where(column.notna(), "").astype(str)


def _years(plan: pd.DataFrame) -> list[int]:
    return sorted(int(c) for c in plan.columns if str(c).isdigit())


def _path(plan: pd.DataFrame) -> pd.DataFrame:
    years = _years(plan)
    d = plan[[c for c in plan.columns if str(c).isdigit()]].copy()
    d.columns = [int(c) for c in d.columns]
    return d[years].astype(int)


def _flows(plan: pd.DataFrame, exempt: np.ndarray | None = None) -> pd.DataFrame:
    d = _path(plan)
    years = list(d.columns)
    diff = d[years[1:]].to_numpy() - d[years[:-1]].to_numpy()
    if exempt is None:
        exempt = np.zeros(len(plan), dtype=bool)
    frame = pd.DataFrame(
        {
            "facility_id": np.repeat(plan["facility_id"].to_numpy(), len(years) - 1),
            "kind": np.repeat(plan["kind"].to_numpy(), len(years) - 1),
            "county": np.repeat(plan["county"].to_numpy(), len(years) - 1),
            "street": np.repeat(_text(plan["street"]).to_numpy(), len(years) - 1),
            "year": np.tile(years[1:], len(plan)),
            "admitted": (diff > 0).astype(int).ravel(),
            "exited": (diff < 0).astype(int).ravel(),
            "exempt": np.repeat(np.asarray(exempt, dtype=bool), len(years) - 1),
        }
    )
    return frame


def _rule_column(plan: pd.DataFrame, problem: SiteProblem, column: str, attr: str) -> pd.Series:
    """A Heze rule attribute per plan row: the plan's own column when present, else the
    problem's facility attribute (``exempt``, ``moves_from``), '' for unknown ids."""
    if column in plan:
        return _text(plan[column]).str.strip()
    by_id = {f.id: getattr(f, attr) for f in problem.facilities}
    return plan["facility_id"].astype(str).map(lambda fid: by_id.get(fid, "")).astype(str)


def residuals(plan: pd.DataFrame, problem: SiteProblem) -> list[str]:
    """Every rule of ``problem`` recomputed from ``plan`` (plan.csv's columns)."""
    plan = plan.reset_index(drop=True).copy()
    plan["street"] = _text(plan["street"])
    out: list[str] = []
    d = _path(plan)
    t0 = problem.base_year
    by_id = {f.id: f for f in problem.facilities}
    ids = plan["facility_id"].astype(str)
    values = d.to_numpy()  # facility rows × years, as numpy: one look-up per row, not pandas
    col = {t: k for k, t in enumerate(d.columns)}

    # 1 paths
    for i, fid in enumerate(ids):
        f = by_id.get(fid)
        if f is None:
            out.append(f"1 paths: {fid} is not in the scenario")
            continue
        row = values[i]
        if row[0] != int(f.existing):
            out.append(f"1 paths: {fid} starts {row[0]} in {t0}, expected {int(f.existing)}")
        if not set(row.tolist()) <= {0, 1}:
            out.append(f"1 paths: {fid} has values other than 0/1")
        steps = np.diff(row)
        # a 0/1 path has at most one 0→1 step (none for existing ones): no return after an exit
        if (steps > 0).sum() > (0 if f.existing else 1):
            out.append(f"1 paths: {fid} is admitted again or returns after an exit")
        if not f.existing and (steps > 0).any():
            year = d.columns[1 + int(np.argmax(steps > 0))]
            if year < f.available_from:
                out.append(f"1 paths: {fid} admitted in {year} before applying ({f.available_from})")

    # 2 targets
    for tg in problem.targets:
        mask = (plan["county"] == tg.county) & (plan["kind"] == tg.kind)
        have = int(d.loc[mask, tg.year].sum())
        bad = have != tg.count if problem.options.target_mode == "equal" else have > tg.count
        if bad:
            out.append(f"2 target: {tg.county} {tg.kind} {tg.year}: {have} designated, "
                       f"target {tg.count} ({problem.options.target_mode})")

    exempt = (_rule_column(plan, problem, "exempt_rule", "exempt") != "").to_numpy()
    moves_from = _rule_column(plan, problem, "moves_from", "moves_from")

    # 3, 4 quotas (and 4 rest: a county's facilities outside its planned streets); admissions
    # exempt from the plan (12) or special-zone overrides (13, plan.csv's approval) are not
    # counted
    flows = _flows(plan, exempt | allocation_report.override_mask(plan))
    failing = failing_pairs(problem)
    outside = set() if problem.pass_mark_within_limits else set(failing)
    flows["outside"] = [(fid, int(y)) in outside for fid, y in
                        zip(flows["facility_id"].astype(str), flows["year"], strict=True)]
    flows["admitted"] = flows["admitted"].where(~flows["exempt"], 0)  # the counted ones
    flows["exited"] = flows["exited"].where(~flows["outside"], 0)

    def totals(area: str) -> dict:
        """(area, kind, year) → (admissions, exits) counted in the quotas."""
        sums = flows.groupby([area, "kind", "year"])[["admitted", "exited"]].sum()
        return dict(zip(sums.index, sums.itertuples(index=False, name=None), strict=True))

    by_area = {"county": totals("county")}
    if problem.options.street_quotas:
        by_area["street"] = totals("street")
    checks: list[tuple[int, str, tuple[int, int], object]] = []
    for q in problem.quotas:
        level = "county" if q.level == "county" else "street"
        if level in by_area:
            checks.append((3 if level == "county" else 4, level,
                           by_area[level].get((q.area, q.kind, q.year), (0, 0)), q))
    if problem.options.street_quotas:
        for q, members in street_rest_quotas(problem):
            rows = flows[flows["facility_id"].isin(members) & (flows["kind"] == q.kind)
                         & (flows["year"] == q.year)]
            checks.append((4, "rest", (rows["admitted"].sum(), rows["exited"].sum()), q))
    for number, level, (adm, ext), q in checks:
        adm, ext = int(adm), int(ext)
        for what, have, limit, mode in (("admissions", adm, q.admit, problem.options.admit_mode),
                                         ("exits", ext, q.exit, problem.options.exit_mode)):
            if (mode == "exact" and have != limit) or have > limit:
                out.append(f"{number} {level} quota: {q.area} {q.kind} {q.year}: {have} "
                           f"{what}, limit {limit} ({mode})")

    # 5 coverage from the model's reach lists
    pos = {fid: i for i, fid in enumerate(ids)}
    lost = lost_cover(problem)  # (16) all its facilities failed the pass mark: not kept
    for cv in problem.cover:
        if cv.mode != "keep":
            continue
        held = values[[pos[f] for f in cv.facilities if f in pos]].sum(axis=0)
        for t in problem.years:
            if (cv.cell, cv.kind, t) not in lost and int(held[col[t]]) < 1:
                out.append(f"5 cover: cell {cv.cell} has no {cv.kind} within reach in {t}")

    # 7 protected
    prot = plan["protected"].astype(str).str.lower().isin(["1", "true"]).to_numpy()
    exited = (np.diff(values, axis=1) < 0).any(axis=1)
    for fid in ids[prot & exited]:
        out.append(f"7 protected: {fid} is protected but exits")

    # 16 pass mark
    for fid, t in failing:
        if fid in pos and int(values[pos[fid], col[t]]) == 1:
            out.append(f"16 pass mark: {fid} scores {by_id[fid].score_in(t)} in {t}, below the "
                       f"pass mark {problem.pass_mark}, but is designated at the end of {t}")

    out += _heze_residuals(plan, problem, d, exempt, moves_from, by_id)
    out += allocation_report.residuals(plan, problem, d)  # 13–15
    return out


def _heze_residuals(plan, problem: SiteProblem, d: pd.DataFrame, exempt: np.ndarray,
                    moves_from: pd.Series, by_id) -> list[str]:
    """Checks 9–12 (the rules of the Heze plan) from the plan's 0/1 paths."""
    out: list[str] = []
    ids = plan["facility_id"].astype(str).tolist()
    pos = {fid: i for i, fid in enumerate(ids)}
    years = list(d.columns)
    values = d.to_numpy()
    steps = np.diff(values, axis=1)  # column j: change in years[j + 1]
    admitted = {ids[i]: int(years[1 + j]) for i, j in zip(*np.nonzero(steps > 0), strict=True)}
    exited = {ids[i]: int(years[1 + j]) for i, j in zip(*np.nonzero(steps < 0), strict=True)}
    col = {t: k for k, t in enumerate(years)}

    # 9 near, from the model's lists
    for near in problem.near:
        i = pos.get(near.facility)
        if i is None or exempt[i] or near.facility not in admitted:
            continue
        t = admitted[near.facility]
        cols = [col[t] - 1, col[t]] if problem.near_timing == "start" else [col[t]]
        hits = [g for g in near.others if g in pos and values[pos[g], cols].max() == 1]
        if hits:
            out.append(f"9 near: {near.facility} admitted in {t} with designated {hits[0]} "
                       f"within {near.radius_m:.0f} m")

    # 10 gate
    for t in problem.closed_years:
        made = [fid for fid, y in admitted.items() if y == t and not exempt[pos[fid]]]
        if made:
            out.append(f"10 gate: {len(made)} admission(s) in {t} while the fund-risk gate is "
                       f"closed, e.g. {made[0]}")

    # 17 beds pause on outpatient clinics
    kind = plan["kind"].astype(str).tolist()
    for t in problem.paused_years:
        made = [fid for fid, y in admitted.items()
                if y == t and kind[pos[fid]] == "clinic" and not exempt[pos[fid]]]
        if made:
            out.append(f"17 pause: {len(made)} clinic admission(s) in {t} while the needed-beds "
                       f"rule pauses new designations (二(一)1), e.g. {made[0]}")

    # 11 moves: from the new site's application year on, admitted iff the old site exits
    for i, old in enumerate(moves_from):
        if not old:
            continue
        new = ids[i]
        f = by_id.get(new)
        start = f.available_from if f is not None else years[1]
        a_year, e_year = admitted.get(new), exited.get(old)
        if old not in pos:
            out.append(f"11 move: {new} moves from {old}, which is not in the plan")
            continue
        if a_year is not None and e_year != a_year:
            out.append(f"11 move: {new} admitted in {a_year} but {old} "
                       f"{'exits in ' + str(e_year) if e_year else 'does not exit'}")
        elif a_year is None and e_year is not None and e_year >= start:
            out.append(f"11 move: {old} exits in {e_year} without its move to {new}")

    # 12 exempt: admitted in the application year, never exits
    for i, fid in enumerate(ids):
        if not exempt[i]:
            continue
        f = by_id.get(fid)
        if fid in exited:
            out.append(f"12 exempt: {fid} is exempt from the plan but exits in {exited[fid]}")
        if f is not None and not f.existing and f.available_from in col:
            if admitted.get(fid) != f.available_from:
                out.append(f"12 exempt: {fid} applied in {f.available_from} but is admitted "
                           f"{'in ' + str(admitted[fid]) if fid in admitted else 'never'}")
    return out


def near_residuals(plan: pd.DataFrame, radius_m: float, crs: str,
                   exempt: np.ndarray | None = None, timing: str = "start",
                   by: str = "kind") -> list[str]:
    """Check 9 from geometry alone: no applicant subject to the plan admitted in a year in which
    a facility of its type (plan column ``by``: ``kind`` or ``category``) within ``radius_m`` is
    designated at the start or admitted (``timing="start"``), or designated at the end
    (``"end"``); distances recomputed from the plan's lon/lat in ``crs``, 1 cm of slack for the
    rounding of lon/lat."""
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    fx, fy = to_xy.transform(plan["lon"].to_numpy(float), plan["lat"].to_numpy(float))
    d = _path(plan)
    values = d.to_numpy()
    years = list(d.columns)
    if exempt is None:
        exempt = (_text(plan["exempt_rule"]).str.strip() != "").to_numpy() \
            if "exempt_rule" in plan else np.zeros(len(plan), dtype=bool)
    applicant = (plan["status"].astype(str) == "applicant").to_numpy()
    kind = plan[by].astype(str).to_numpy()
    ids = plan["facility_id"].astype(str).to_numpy()
    out = []
    steps = np.diff(values, axis=1)
    for i, j in zip(*np.nonzero(steps > 0), strict=True):
        if exempt[i] or not applicant[i]:
            continue
        t = j + 1
        dist = np.hypot(fx - fx[i], fy - fy[i])
        held = values[:, t - 1:t + 1].max(axis=1) if timing == "start" else values[:, t]
        near = (dist <= radius_m - 0.01) & (kind == kind[i]) & (held == 1)
        near[i] = False
        if near.any():
            g = int(np.flatnonzero(near)[0])
            out.append(f"9 near (geometry): {ids[i]} admitted in {years[t]} with designated "
                       f"{ids[g]} {dist[g]:.0f} m away (< {radius_m:.0f} m)")
    return out

def coverage_residuals(plan: pd.DataFrame, cells: pd.DataFrame, crs: str,
                       skip: set[tuple[str, str, int]] = frozenset()) -> list[str]:
    """Check 5 from geometry alone: distances recomputed from lon/lat in a projected CRS;
    ``skip`` holds the ``(cell, kind, year)`` the pass mark (16) frees from the rule."""
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    fx, fy = to_xy.transform(plan["lon"].to_numpy(float), plan["lat"].to_numpy(float))
    d = _path(plan).to_numpy()
    years = _years(plan)[1:]
    out = []
    for kind in ("clinic", "pharmacy"):
        must = cells[cells[f"must_cover_{kind}"].astype(int) == 1]
        if must.empty:
            continue
        cx, cy = to_xy.transform(must["lon"].to_numpy(float), must["lat"].to_numpy(float))
        of_kind = (plan["kind"] == kind).to_numpy()
        dist = np.hypot(cx[:, None] - fx[None, of_kind], cy[:, None] - fy[None, of_kind])
        near = dist <= must["radius_m"].to_numpy(float)[:, None] + 0.01  # 1 cm rounding of lon/lat
        for j, t in enumerate(years, start=1):
            covered = (near & (d[of_kind, j][None, :] == 1)).any(axis=1)
            for cell in must["cell_id"].to_numpy()[~covered]:
                if (str(cell), kind, int(t)) not in skip:
                    out.append(f"5 cover (geometry): cell {cell} has no {kind} within reach "
                               f"in {t}")
    return out


def check_plan(plan: pd.DataFrame, scenario) -> list[str]:
    """All residual checks of a plan against a loaded scenario."""
    out = residuals(plan, scenario.problem) + coverage_residuals(
        plan, scenario.cells, scenario.config.crs, lost_cover(scenario.problem)
    )
    rules = getattr(scenario.config, "rules", None)
    radius = getattr(rules, "near_radius_m", None) if rules is not None else None
    if radius:
        exempt = (_rule_column(plan, scenario.problem, "exempt_rule", "exempt") != "").to_numpy()
        out += near_residuals(plan, float(radius), scenario.config.crs, exempt,
                              rules.near_timing, rules.near_type)
    return out
