"""Long-term-care institutions (定点护理机构, 四(三)) beside the site model: plan and check.

:func:`plan_nursing` reads a nursing YAML (``scenario.yaml`` → ``nursing:``) and its CSV files
with :mod:`dingdian.scenario.nursing` (which describes them), reuses the site scenario's cells
(read-only) and returns an :class:`ExtraResult`.

Elderly per cell: each county's 60+ figure split over the county's cells in proportion to the
cell population (largest remainder), i.e. cell population × the county's 60+ share, in integers
that add up to the county figure. A site reaches a cell when its distance to the cell centre is
at most the cell's radius (urban 1,060.82 m, rural 2,121.64 m, as the site model).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from dingdian.errors import ScenarioError, ScenarioErrors
from dingdian.geometry import largest_remainder, lonlat_to_xy, within_radius
from dingdian.models.nursing import (
    RATE_UNIT,
    BedArea,
    BedRules,
    ElderlyCell,
    HomeCareProblem,
    HomeCareSite,
    build_home_care_model,
    cell_years,
    check_beds,
    optimum,
    plan_institution_beds,
    read_solution,
    tie_break,
)
from dingdian.result import FEASIBLE, NO_SOLUTION, OPTIMAL, ExtraResult
from dingdian.run.backends import run_backend, time_left, value
from dingdian.scenario.files import Collector
from dingdian.scenario.loader import load_scenario
from dingdian.scenario.nursing import (
    HomeCareConfig,
    read_beds,
    read_candidates,
    read_elderly,
    read_nursing_config,
)

TABLE, SHEET, CITY = "tables/护理机构规划.csv", "护理机构规划", "全市"
SITE_COLUMNS = ["site_id", "name", "category", "county", "lon", "lat", "year_opened", "year",
                "elderly_covered", "disabled_served", "cells_served"]
#: bed-table columns (:func:`dingdian.models.nursing.plan_institution_beds`) → Chinese headings
BED_COLUMNS = {"county": "县区", "bed_cap": "床位上限", "existing_beds": "现有床位数",
               "occupancy": "床位使用率", "planned_beds": "机构照护型床位数",
               "institutions": "机构照护型机构数"}


# --------------------------------------------------------------------------- model inputs
def elderly_cells(cells: pd.DataFrame, elderly: pd.DataFrame) -> pd.DataFrame:
    """The cells with ``elderly`` (county 60+ split ∝ population) and ``rate`` columns."""
    out = cells[["cell_id", "county", "zone", "x", "y", "lon", "lat", "radius_m",
                 "population"]].copy()
    out["elderly"] = 0
    for r in elderly.itertuples(index=False):
        m = (out["county"] == r.county).to_numpy()
        if m.any():
            out.loc[m, "elderly"] = largest_remainder(int(r.elderly), out.loc[m, "population"])
    out["rate"] = out["county"].map(dict(zip(elderly["county"], elderly["rate"], strict=True)))
    return out


def reach(cells: pd.DataFrame, sites: pd.DataFrame) -> list[tuple[tuple, tuple]]:
    """Per cell, the candidate ids within the cell's radius and their distances (whole metres)."""
    out: list[tuple[tuple, tuple]] = [((), ())] * len(cells)
    cxy, sxy = cells[["x", "y"]].to_numpy(float), sites[["x", "y"]].to_numpy(float)
    sid = sites["site_id"].to_numpy()
    for radius in sorted(set(cells["radius_m"])):
        rows = np.flatnonzero((cells["radius_m"] == radius).to_numpy())
        for r, near in zip(rows, within_radius(cxy[rows], sxy, radius), strict=True):
            metres = np.rint(np.hypot(*(sxy[near] - cxy[r]).T)).astype(int)
            out[r] = (tuple(sid[near]), tuple(int(m) for m in metres))
    return out


def _caps(cfg: HomeCareConfig, years, name: str) -> tuple[int, ...]:
    """One opening cap per planning year (``()``: no cap)."""
    cap = dict.fromkeys(years, cfg.yearly_cap) if isinstance(cfg.yearly_cap, int) else (
        cfg.yearly_cap or {})
    for y, v in cap.items():
        if y not in years or v < 0:
            raise ScenarioError(name, None, f"home_care.yearly_cap.{y}",
                                f"{v} for {y}: needs a planning year and a count ≥ 0")
    missing = [y for y in years if y not in cap]
    if cap and missing:
        raise ScenarioError(name, None, "home_care.yearly_cap", f"no cap for {missing[0]}")
    return tuple(int(cap[y]) for y in years) if cap else ()


def read_inputs(scenario_dir: Path, nursing_file: str, sc):
    """Every file of a nursing plan read and checked against the loaded site scenario ``sc``,
    nothing solved (``dingdian validate``): ``(config, candidate sites, elderly per county,
    institution beds, yearly caps)``. All problems are raised together."""
    path = Path(scenario_dir) / nursing_file
    cfg = read_nursing_config(path)
    files = {key: path.parent / rel for key, rel in cfg.files.model_dump().items()}
    missing = [ScenarioError(path.name, None, f"files.{key}", f"file not found: {f}")
               for key, f in files.items() if not f.is_file()]
    if missing:
        raise ScenarioErrors(missing)
    found = Collector()
    sites = found.run(read_candidates, files["candidates"], sc.counties, sc.config.crs,
                      sc.config.coordinates)
    elderly = found.run(read_elderly, files["elderly"], sc.census,
                        cfg.home_care.severe_disability_rate)
    beds_in = found.run(read_beds, files["institution_beds"], list(sc.counties))
    caps = found.run(_caps, cfg.home_care, tuple(sc.config.years), path.name)
    found.raise_if_any()
    return cfg, sites, elderly, beds_in, caps


# --------------------------------------------------------------------------- the plan
def plan_nursing(scenario_dir: Path, nursing_file: str, backend: str = "highs",
                 time_limit: float | None = None, scenario=None) -> ExtraResult:
    """Home-care sites (covering model) and institution-care beds for one scenario.

    ``files``: ``nursing.csv`` (one row per open site and year), ``nursing_cells.csv`` (cells
    with elderly residents), ``nursing_assignments.csv`` (cell, site, elderly and expected
    disabled served, the year service starts, distance) and ``tables/护理机构规划.csv``. Without
    a home-care plan (infeasible, nothing found in time) ``files`` and ``sheets`` are empty and
    ``summary['status']`` says why. The home-care model is solved in two stages on the same
    backend: (L1) its objective, then (L2) the tie-break (8) of :mod:`dingdian.models.nursing`
    (``summary['tie_break']``), so that every backend returns the same plan. ``time_limit``
    (seconds) bounds both; (L2) gets the time left. The summary records it and whether a stage
    was cut short (``cut_short``; an (L2) cut short leaves an optimal plan, not the unique one).
    """
    # the site scenario's cells: the one already loaded (a variant's, say), else the directory's
    sc = scenario if scenario is not None else load_scenario(Path(scenario_dir) / "scenario.yaml")
    cfg, sites, elderly, beds_in, caps = read_inputs(scenario_dir, nursing_file, sc)
    hc, ic = cfg.home_care, cfg.institution_care
    years = tuple(sc.config.years)
    cells = elderly_cells(sc.cells, elderly)
    cells = cells[cells["elderly"] > 0].reset_index(drop=True)
    found = reach(cells, sites)
    cells["reach"], cells["metres"] = [ids for ids, _m in found], [m for _ids, m in found]
    problem = HomeCareProblem(
        cells=tuple(ElderlyCell(r.cell_id, r.county, int(r.elderly),
                                int(round(r.rate * RATE_UNIT)), r.reach, r.metres)
                    for r in cells.itertuples(index=False)),
        sites=tuple(HomeCareSite(r.site_id, r.county) for r in sites.itertuples(index=False)),
        years=years, yearly_cap=caps, budget=hc.budget, mode=hc.mode,
        elderly_per_site=hc.elderly_per_site, disabled_per_site=hc.disabled_per_site)
    rules = BedRules(ic.cap_share, ic.min_occupancy, ic.beds_per_institution)
    per = elderly.set_index("county")
    beds = plan_institution_beds(
        [BedArea(r.county, float(per.at[r.county, "elderly"] * per.at[r.county, "rate"]),
                 int(r.existing_beds), float(r.occupancy), int(r.surplus))
         for r in beds_in.itertuples(index=False)], rules, ic.ltc_beneficiaries)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    model = build_home_care_model(problem)
    t1 = time.perf_counter()
    status, objective, bound, values, message = run_backend(model, backend, time_limit)
    tie = None
    if status == OPTIMAL:  # (8) stage L2: the same plan on every backend
        values, tie = _tie_break(model, backend, values, deadline)
    summary = {"mode": hc.mode, "backend": backend, "status": status, "message": message,
               "objective": objective, "bound": bound, "gap": None, "tie_break": tie,
               "build_seconds": round(t1 - t0, 3), "solve_seconds": round(time.perf_counter() - t1, 3),
               "n_variables": model.lp.numVariables(), "n_constraints": model.lp.numConstraints(),
               "time_limit": time_limit, "synthetic_data": cfg.synthetic,
               "cut_short": status in (FEASIBLE, NO_SOLUTION) or bool(tie and tie["cut_short"])}
    if status not in (OPTIMAL, FEASIBLE) or values is None:
        return ExtraResult(name="nursing", summary=summary)
    terms = {k: value(e, values) for k, e in model.terms.items()}
    summary["objective"] = objective = sum(terms.values())
    summary["objective_terms"] = terms
    if bound is not None:
        summary["gap"] = abs(objective - bound) / max(1.0, abs(objective))
    opened, assign = read_solution(model, values)
    frames = _frames(cells, sites, opened, assign, years, elderly, beds)
    out = dict(zip(["nursing.csv", "nursing_cells.csv", "nursing_assignments.csv", TABLE],
                   frames, strict=True))
    summary.update(_summary(frames, years, beds, rules))
    violations = check_nursing(out, hc, caps, years, sc.config.crs, rules,
                               beds.attrs["city_beneficiaries"])
    b = summary["beds"]
    summary["headline"] = (
        f"护理 home care: {summary['sites_total']} sites cover {summary['elderly_covered']:,} of "
        f"{summary['elderly_total']:,} aged 60+ ({summary['coverage_share']:.1%}) by {years[-1]}; "
        f"institution care: {b['planned_beds']:,} beds in {b['institutions']} institutions "
        f"(cap {b['bed_cap']:,}); {status} on {backend}")
    return ExtraResult(name="nursing", files=out, sheets={SHEET: frames[3]}, summary=summary,
                       violations=violations)


def _tie_break(model, backend: str, values: dict, deadline: float | None):
    """Stage L2, the tie-break (8) of :mod:`dingdian.models.nursing`, after (L1)'s proven
    optimum, with the time left: the plan's values (L1's when L2 found none) and the stage's
    record (``cut_short``: not proven, or not run for lack of time)."""
    t0, limit = time.perf_counter(), time_left(deadline)
    status, metres, found = NO_SOLUTION, None, None
    if limit != 0:
        staged = tie_break(model, *optimum(model, values))
        status, metres, _bound, found, _msg = run_backend(staged, backend, limit)
    ok = found is not None and status in (OPTIMAL, FEASIBLE)
    return (found if ok else values), {
        "stage": "L2", "status": status, "elderly_metres": round(metres) if ok else None,
        "seconds": round(time.perf_counter() - t0, 3),
        "time_limit": None if limit is None else round(limit, 3), "cut_short": status != OPTIMAL}


def _frames(cells, sites, opened, assign, years, elderly, beds):
    last = years[-1]
    s, c = sites.set_index("site_id"), cells.set_index("cell_id")
    a = assign.copy()
    a["distance_m"] = np.hypot(
        s.loc[a["site_id"], "x"].to_numpy() - c.loc[a["cell_id"], "x"].to_numpy(),
        s.loc[a["site_id"], "y"].to_numpy() - c.loc[a["cell_id"], "y"].to_numpy()).round(2)
    load = a.groupby("site_id").agg(elderly_covered=("elderly", "sum"),
                                    disabled_served=("disabled", "sum"),
                                    cells_served=("cell_id", "nunique")).round(2)
    rows = [(sid, t0, t) for sid, t0 in sorted(opened.items(), key=lambda kv: (kv[1], kv[0]))
            for t in years if t >= t0]
    site_rows = pd.DataFrame(rows, columns=["site_id", "year_opened", "year"]).merge(
        sites[["site_id", "name", "category", "county", "lon", "lat"]], on="site_id").join(
        load, on="site_id").fillna({"elderly_covered": 0, "disabled_served": 0, "cells_served": 0})
    site_rows = site_rows.astype({"elderly_covered": int, "cells_served": int})[SITE_COLUMNS]
    out_cells = cells[["cell_id", "county", "zone", "lon", "lat", "radius_m", "population",
                       "elderly"]].assign(reachable=cells["reach"].map(bool).astype(int))
    out_cells = out_cells.join(cell_years(a, c["elderly"], years), on="cell_id")
    t = beds.set_index("county").drop(columns="new_allowed").loc[list(elderly["county"])]
    t["elderly"] = elderly.set_index("county")["elderly"]
    t["covered"] = out_cells.groupby("county")["elderly_covered"].sum()
    t["sites"] = site_rows[site_rows["year"] == last].groupby("county").size()
    t = t.fillna(0)
    t.loc[CITY] = t.sum(numeric_only=True)
    t.loc[CITY, "occupancy"] = (t["occupancy"] * t["existing_beds"]).iloc[:-1].sum() / max(
        t.at[CITY, "existing_beds"], 1)
    n = {k: t[v].astype(int).to_numpy() for k, v in [
        ("60岁以上人口", "elderly"), ("覆盖老年人口", "covered"), ("居家照护型机构数", "sites"),
        ("机构照护型床位数", "planned_beds"), ("机构照护型机构数", "institutions")]}
    table = pd.DataFrame({"县区": t.index, **n, "床位使用率": t["occupancy"].round(4).to_numpy(),
                          "是否新增床位": np.where(t["new_beds"] > 0, "是", "否"),
                          "预期长护险待遇人数": t["beneficiaries"].round(1).to_numpy()})
    for k, v in [("床位上限", "bed_cap"), ("现有床位数", "existing_beds"), ("新增床位数", "new_beds"),
                 ("超配床位转入", "converted_beds")]:
        table[k] = t[v].astype(int).to_numpy()
    table.insert(3, "覆盖率", (table["覆盖老年人口"] / table["60岁以上人口"].clip(lower=1)).round(4))
    return site_rows, out_cells, a, table


def _summary(frames, years, beds, rules) -> dict:
    site_rows, cells, _a, _table = frames
    total = int(cells["elderly"].sum())
    reachable = int(cells.loc[cells["reachable"] == 1, "elderly"].sum())
    opened = site_rows.drop_duplicates("site_id")["year_opened"].value_counts()
    covered = {int(t): int(site_rows.loc[site_rows["year"] == t, "elderly_covered"].sum())
               for t in years}  # catchments are kept from the opening year on
    return {
        "elderly_total": total, "elderly_reachable": reachable,
        "elderly_covered": covered[years[-1]], "elderly_covered_by_year": covered,
        "coverage_share": round(covered[years[-1]] / max(total, 1), 4),
        "coverage_share_reachable": round(covered[years[-1]] / max(reachable, 1), 4),
        "sites_opened_by_year": {int(t): int(opened.get(t, 0)) for t in years},
        "sites_total": int(site_rows["site_id"].nunique()),
        "cells_unreachable": int((cells["reachable"] == 0).sum()),
        "elderly_unreachable": total - reachable,
        "beds": {"ltc_beneficiaries": round(beds.attrs["city_beneficiaries"], 1),
                 "cap_share": rules.cap_share, "bed_cap": int(beds.attrs["city_cap"]),
                 **{k: int(beds[k].sum()) for k in ("existing_beds", "planned_beds", "new_beds",
                                                    "converted_beds", "institutions")},
                 "no_new_beds": list(beds.loc[~beds["new_allowed"], "county"])},
        # new long-term-care beds each county takes from surplus hospital beds: the beds
        # planner converts no more than this (its nursing_capacity)
        "converted_by_county": {str(c): int(v) for c, v in
                                zip(beds["county"], beds["converted_beds"], strict=True)},
    }


# --------------------------------------------------------------------------- residual checks
def check_nursing(files: dict[str, pd.DataFrame], hc: HomeCareConfig, caps, years, crs: str,
                  rules: BedRules, beneficiaries: float) -> list[str]:
    """Every rule recomputed in plain pandas from the written frames; [] when all hold."""
    sites, cells, a, table = (files["nursing.csv"], files["nursing_cells.csv"],
                              files["nursing_assignments.csv"], files[TABLE])
    bad: list[str] = []
    load = a.groupby("site_id")[["elderly", "disabled"]].sum()
    bad += [f"{sid}: {r.elderly} elderly > {hc.elderly_per_site}"
            for sid, r in load.iterrows() if r.elderly > hc.elderly_per_site]
    bad += [f"{sid}: {r.disabled:.2f} disabled > {hc.disabled_per_site}"
            for sid, r in load.iterrows() if r.disabled > hc.disabled_per_site + 1e-6]
    first = sites.drop_duplicates("site_id").set_index("site_id")
    opened = a["site_id"].map(first["year_opened"])
    bad += [f"{r.site_id} serves {r.cell_id} from {r.year_from} but opens in {o}"
            for r, o in zip(a.itertuples(), opened, strict=True) if o != r.year_from]
    expect = {(sid, t) for sid, t0 in first["year_opened"].items() for t in years if t >= t0}
    if expect != set(zip(sites["site_id"], sites["year"], strict=True)):
        bad.append("nursing.csv: not one row per open site and year")
    per_year = first["year_opened"].value_counts()
    bad += [f"{per_year.get(t, 0)} sites opened in {t} > cap {cap}"
            for t, cap in zip(years, caps, strict=False) if per_year.get(t, 0) > cap]
    if hc.budget is not None and len(first) > hc.budget:
        bad.append(f"{len(first)} sites opened > budget {hc.budget}")
    c = cells.set_index("cell_id")
    cx, cy = lonlat_to_xy(c.loc[a["cell_id"], "lon"], c.loc[a["cell_id"], "lat"], crs)
    sx, sy = lonlat_to_xy(first.loc[a["site_id"], "lon"], first.loc[a["site_id"], "lat"], crs)
    far = np.hypot(cx - sx, cy - sy) > c.loc[a["cell_id"], "radius_m"].to_numpy() + 0.01
    bad += [f"{r.site_id} → {r.cell_id}: beyond the cell radius" for r in a[far].itertuples()]
    served = a.groupby("cell_id")["elderly"].sum()
    bad += [f"{cid}: served {v} > {c.at[cid, 'elderly']} elderly"
            for cid, v in served.items() if v > c.at[cid, "elderly"]]
    if hc.mode == "min_sites":
        need = c[(c["reachable"] == 1) & (c["elderly"] > 0)]
        got = served.reindex(need.index).fillna(0)
        bad += [f"{cid}: {int(got[cid])} of {e} elderly served"
                for cid, e in need["elderly"].items() if got[cid] != e]
    beds = table[table["县区"] != CITY].rename(columns={v: k for k, v in BED_COLUMNS.items()})
    return bad + check_beds(beds, rules, beneficiaries)
