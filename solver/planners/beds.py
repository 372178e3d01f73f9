"""The beds planner: ``plan_beds(scenario_dir, beds_file)`` → :class:`ExtraResult` ``beds``.

``kind: zhangye`` (张掖 四(一)1, 五(二)1(1)): checks the published figures (8.96 × population →
9,856, 3:5:2, county shares by census population), then solves the yearly bed-reduction model
of :mod:`dingdian.models.beds_model` with one backend of :mod:`dingdian.run.backends` in two
stages, (L1) its objective (7) and (L2) the tie-break (8), so that every backend writes the same
plan, and writes 表1, 表4, 表5 from it. ``kind: heze`` (菏泽 二(一), 术语解释): the need formula,
the decision rule and, under ``allocate``, the county allocation (:mod:`dingdian.models.beds`),
every evaluation year (:mod:`dingdian.planners.beds_heze`).

``beds.csv`` columns (one row per hospital and year for Zhangye, base year included; one row per
county and evaluation year for Heze):

=================  ==========================================================================
county             县区
hospital_id, name  the hospital (Zhangye; SYNTHETIC) — empty for Heze
level              三级 / 二级 / 一级及未定级 (Zhangye) — empty for Heze
year               year whose end the row describes
beds               beds at the end of the year (Heze: actual beds)
cut                beds cut in the year
added              beds added in the year (Zhangye: growing counties; Heze: new designated beds)
to_nursing         cut beds converted to nursing beds (转向养老、护理机构床位)
occupancy          bed occupancy (病床使用率), a fraction
floor, nursing_allowed                       Zhangye only: the hospital's floor, 0/1
population, per_thousand, outside_allocation, eligible    Heze only
branch, paused     Heze only: the year's 二(一) branch; 1 = new inpatient designations paused
=================  ==========================================================================
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from dingdian.errors import ScenarioError
from dingdian.models import beds as mb
from dingdian.planners.beds_check import check_zhangye
from dingdian.planners.beds_heze import TH, heze_table, plan_heze  # noqa: F401 (re-exported)
from dingdian.result import FEASIBLE, NO_SOLUTION, OPTIMAL, ExtraResult
from dingdian.run.backends import run_backend, time_left, value
from dingdian.scenario.beds import (
    PublishedTables,
    ZhangyeBeds,
    heze_years,
    read_beds_config,
    read_census,
    read_hospitals,
    read_tables,
)
from dingdian.scenario.files import Collector

T1 = "tables/表1_定点医疗机构床位规划目标.csv"
T4 = "tables/表4_张掖市医保筹资可承担的千人床位数配置.csv"
T5 = "tables/表5_按定点医疗机构级别床位数配置.csv"
EXISTING, PLANNED = "现有床位数（张）", "规划床位数（张）"
COLUMNS = ["county", "hospital_id", "name", "level", "year", "beds", "cut", "added",
           "to_nursing", "occupancy", "floor", "nursing_allowed"]


def plan_beds(scenario_dir: Path, beds_file: str, backend: str = "highs",
              time_limit: float | None = None,
              nursing_capacity: dict[str, int] | None = None,
              certify: bool = False) -> ExtraResult:
    """Read ``scenario_dir / beds_file`` and run its city's branch (see the module docstring).

    ``time_limit`` (seconds) bounds the Zhangye model's solve, both stages: (L1) the objective
    (7), then (L2) the tie-break (8) of :mod:`dingdian.models.beds_model` with the time left
    (``summary['tie_break']``). The summary records the limit and whether a stage was cut
    short (``cut_short``: a plan not proven optimal, or none; an (L2) cut short leaves an
    optimal plan, not the unique one). ``certify`` adds the certificate (9), which proves the
    plan the only one as good (``summary['tie_break']['unique']``); it costs a third solve.
    ``nursing_capacity`` (county → beds), when given, replaces the file's: the nursing plan
    passes how many new long-term-care beds each county takes from surplus hospital beds, so
    that hospitals convert no more than the nursing plan can use (五(二)1(1), 四(三)2).
    """
    path = Path(scenario_dir) / beds_file
    cfg = read_beds_config(path)
    if isinstance(cfg, ZhangyeBeds):
        if nursing_capacity is not None:
            cfg = cfg.model_copy(update={"nursing_capacity": dict(nursing_capacity)})
        return _plan_zhangye(path, cfg, backend, time_limit, certify)
    return plan_heze(path, cfg)


# --------------------------------------------------------------------------- Zhangye
def read_inputs(scenario_dir: Path, beds_file: str):
    """Every file of a beds plan read and checked, nothing solved (``dingdian validate``):
    the configuration and, for Zhangye, ``(tables, census, hospitals)``; for Heze, every
    evaluation year's inputs (:func:`dingdian.scenario.beds.heze_years`). All problems are
    raised together."""
    path = Path(scenario_dir) / beds_file
    cfg = read_beds_config(path)
    if isinstance(cfg, ZhangyeBeds):
        return cfg, _zhangye_inputs(path, cfg)
    return cfg, heze_years(path, cfg)


def _zhangye_inputs(path: Path, cfg: ZhangyeBeds):
    base = path.parent
    found = Collector()
    expect = tuple(range(cfg.base_year + 1, cfg.base_year + 1 + len(cfg.years)))
    if cfg.years != expect:
        found.add(ScenarioError(path.name, None, "years", f"must be consecutive from "
                                f"base_year + 1, e.g. {list(expect)}"))
    tables = found.run(read_tables, base / cfg.files.tables)
    if tables is None:
        found.raise_if_any()
    census = found.run(read_census, base / cfg.files.census, list(tables.county))
    if set(cfg.level_ratio) != set(tables.level):
        found.add(ScenarioError(path.name, None, "level_ratio", f"levels must be those of "
                                f"{cfg.files.tables}: {', '.join(tables.level)}"))
    for county in cfg.nursing_capacity:
        if county not in tables.county:
            found.add(ScenarioError(path.name, None, f"nursing_capacity.{county}",
                                    "unknown county"))
    hospitals = found.run(read_hospitals, base / cfg.files.hospitals, tables, cfg)
    found.raise_if_any()
    return tables, census, hospitals


def bed_problem(cfg: ZhangyeBeds, tables: PublishedTables, hospitals) -> mb.BedProblem:
    """The model's data: the hospitals, 表4's and 表5's planned figures and the file's rules."""
    return mb.BedProblem(
        hospitals=hospitals, base_year=cfg.base_year, years=cfg.years,
        county_targets={c: p for c, (_e, p) in tables.county.items()},
        level_targets={lv: p for lv, (_e, p) in tables.level.items()},
        spread_slack=cfg.spread_slack, nursing_capacity=dict(cfg.nursing_capacity),
        weights=mb.BedWeights(**cfg.weights.model_dump()))


def _plan_zhangye(path: Path, cfg: ZhangyeBeds, backend: str, time_limit,
                  certify: bool = False) -> ExtraResult:
    tables, census, hospitals = _zhangye_inputs(path, cfg)
    problem = bed_problem(cfg, tables, hospitals)
    figures, notes = zhangye_figures(cfg, tables, census)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    model = mb.build_bed_model(problem)
    build_s = time.perf_counter() - t0
    status, objective, bound, values, message = run_backend(model, backend, time_limit)
    tie = None
    if status == OPTIMAL:  # (8), stage L2: the same plan on every backend
        values, tie = _tie_break(model, backend, values, deadline, certify)
    solve_s = time.perf_counter() - t0 - build_s
    summary = {
        "kind": "zhangye", "branch": "reduce", "backend": backend, "status": status,
        "objective": objective, "bound": bound, "message": message,
        "n_variables": model.lp.numVariables(), "n_constraints": model.lp.numConstraints(),
        "build_seconds": round(build_s, 3), "solve_seconds": round(solve_s, 3),
        "time_limit": time_limit, "tie_break": tie,
        "cut_short": status in (FEASIBLE, NO_SOLUTION) or bool(tie and tie["cut_short"]),
        "figures": figures, "notes": notes,
    }
    if values is None or status not in (OPTIMAL, FEASIBLE):
        why = f"no bed plan: the model is {status} ({message})"
        c_sum, l_sum = sum(p for _e, p in tables.county.values()), sum(
            p for _e, p in tables.level.values())
        if c_sum != l_sum:
            why += f"; county totals (表4) add up to {c_sum}, level totals (表5) to {l_sum}"
        summary["notes"] = [*notes, why]
        return ExtraResult(name="beds", files={}, sheets={}, summary=summary, violations=[why])
    values = mb.settle_conversions(model, values)  # (8c): n_c as the plan converts
    frame = mb.plan_frame(model, values)[COLUMNS]
    summary["objective_terms"] = {k: float(round(_value(e, values), 6))
                                  for k, e in model.terms.items()}
    summary["objective"] = float(sum(summary["objective_terms"].values()))
    plan = frame[frame["year"] > cfg.base_year]
    summary["yearly_cut"] = {c: {str(y): int(v) for y, v in g.groupby("year")["cut"].sum().items()}
                             for c, g in plan.groupby("county", sort=False)}
    summary["to_nursing"] = int(plan["to_nursing"].sum())
    files = {"beds.csv": frame, **zhangye_tables(frame, tables, cfg.base_year, cfg.years[-1])}
    files["beds_population_share.csv"] = pd.DataFrame(
        [{"county": c, **v} for c, v in figures["population_share"].items()])
    yearly = frame.pivot_table(index="county", columns="year", values="beds", aggfunc="sum",
                               sort=False)
    sheets = {"表1_床位规划目标": files[T1], "表4_千人床位数配置": files[T4],
              "表5_按级别床位数配置": files[T5], "床位逐年 beds by year": yearly.reset_index()}
    violations = check_zhangye(frame, problem, tables)
    summary["verified"] = not violations
    first, last = frame[frame["year"] == cfg.base_year], frame[frame["year"] == cfg.years[-1]]
    summary["headline"] = (
        f"床位 beds {int(first['beds'].sum()):,} → {int(last['beds'].sum()):,} in "
        f"{cfg.years[-1]} (表4 counties and 表5 levels held), {summary['to_nursing']} turned "
        f"into nursing beds; {status} on {backend}")
    return ExtraResult(name="beds", files=files, sheets=sheets, summary=summary,
                       violations=violations)


def _value(expr, values) -> float:
    return expr.constant + sum(c * values.get(v.name, 0.0) for v, c in expr.items())


def _tie_break(model, backend: str, values: dict, deadline: float | None, certify: bool):
    """Stage L2, the tie-break (8) of :mod:`dingdian.models.beds_model`, after (L1)'s proven
    optimum, with the time left. Returns the plan's values (L1's when L2 found none) and the
    stage's record (``cut_short``: not proven, or not run for lack of time; ``bed_years``: τ).
    With ``certify``, the certificate (9) too (``unique``; ``could_differ``: the totals a plan
    as good could change, ``cut ZY-H-002``)."""
    t0, limit = time.perf_counter(), time_left(deadline)
    z_star = mb.optimum(model, values)
    status, found = NO_SOLUTION, None
    if limit != 0:
        status, _tau, _bound, found, _msg = run_backend(mb.tie_break(model, z_star), backend,
                                                        limit)
    ok = found is not None and status in (OPTIMAL, FEASIBLE)
    plan = found if ok else values
    tau = round(value(mb.tie_break_expression(model), plan))
    record = {"stage": "L2", "status": status, "bed_years": tau if ok else None,
              "seconds": round(time.perf_counter() - t0, 3),
              "time_limit": None if limit is None else round(limit, 3),
              "cut_short": status != OPTIMAL}
    if certify and status == OPTIMAL:
        record["unique"], record["could_differ"] = _certify(model, backend, plan, z_star, tau,
                                                            deadline)
    return plan, record


def _certify(model, backend: str, plan: dict, z_star: int, tau: int, deadline):
    """The certificate (9): ``(unique, hospitals whose totals could differ)``; ``(None, None)``
    when not proven in the time left."""
    limit = time_left(deadline)
    if limit == 0:
        return None, None
    status, _obj, _bound, found, _msg = run_backend(mb.certificate(model, plan, z_star, tau),
                                                    backend, limit)
    if status != OPTIMAL or found is None:
        return None, None
    moved = mb.differing(model, found)
    return not moved, moved


def zhangye_figures(cfg: ZhangyeBeds, tables: PublishedTables,
                    census: dict[str, int]) -> tuple[dict, list[str]]:
    """The published figures checked against each other and against the census."""
    existing = sum(e for e, _p in tables.county.values())
    planned_c = sum(p for _e, p in tables.county.values())
    planned_l = sum(p for _e, p in tables.level.values())
    pop = mb.implied_population(cfg.planned_total, cfg.affordable_per_thousand)
    census_total = sum(census.values())
    share = mb.population_share(cfg.planned_total, census)
    split = mb.ratio_split(cfg.planned_total, cfg.level_ratio)
    rows = {c: {"census_population": census[c], "population_share_beds": share[c],
                "published_beds": tables.county[c][1],
                "difference": share[c] - tables.county[c][1],
                "implied_population": round(mb.implied_population(tables.county[c][1],
                                                                  cfg.affordable_per_thousand))}
            for c in tables.county}
    l1 = sum(abs(r["difference"]) for r in rows.values())
    figures = {
        "affordable_per_thousand": cfg.affordable_per_thousand,
        "planned_total": cfg.planned_total, "implied_population": round(pop, 3),
        "census_population": census_total,
        "census_planned_total": round(census_total * cfg.affordable_per_thousand / 1000, 1),
        "existing_tables": existing, "over_allocation": existing - cfg.planned_total,
        "existing_per_thousand_implied": round(existing * 1000 / pop, 4),
        "existing_per_thousand_published": cfg.existing_per_thousand,
        "county_planned_total": planned_c, "level_planned_total": planned_l,
        "level_split": {lv: {"ratio": cfg.level_ratio[lv], "split": split[lv],
                             "published": tables.level[lv][1]} for lv in tables.level},
        "population_share": rows, "population_share_l1": l1,
        "population_share_max_abs": max(abs(r["difference"]) for r in rows.values()),
        "bed_counts": {**cfg.text_beds, "表1/表4/表5 现有床位数": existing},
    }
    notes = [
        f"{cfg.affordable_per_thousand} beds per thousand × population = {cfg.planned_total} "
        f"implies a population of {pop:,.0f} (the 2020 census says {census_total:,}; "
        f"{cfg.affordable_per_thousand} × census = {figures['census_planned_total']:,})",
        "bed counts disagree: the text (一(二)1) gives "
        + ", ".join(f"{k} {v:,}" for k, v in cfg.text_beds.items())
        + f"; 表1/表4/表5 give {existing:,} existing beds. The model starts from the tables' "
        f"{existing:,} (the hospitals add up to it); {existing:,} / {pop / 1000:,.0f} thousand = "
        f"{existing * 1000 / pop:.2f} per thousand, the text's "
        f"{cfg.existing_per_thousand} — so the 10.69 figure belongs to the tables' count",
        f"3:5:2 split of {cfg.planned_total}: "
        + " / ".join(f"{lv} {split[lv]}" for lv in tables.level)
        + (" — equals 表5" if all(split[lv] == tables.level[lv][1] for lv in tables.level)
           else " — differs from 表5"),
        f"census population shares of {cfg.planned_total} differ from 表4 by {l1} beds in total "
        "(" + ", ".join(f"{c} {r['difference']:+d}" for c, r in rows.items()) + ")",
    ]
    if planned_c != planned_l:
        notes.append(f"表4 adds up to {planned_c} but 表5 to {planned_l}: both cannot hold")
    return figures, notes


def _table(rows, label: str, names: dict[str, str], cols: tuple[str, str, str]):
    out = [{label: names[k], cols[0]: e, cols[1]: p, cols[2]: p - e} for k, e, p in rows]
    te, tp = sum(r[cols[0]] for r in out), sum(r[cols[1]] for r in out)
    total = "全市" if label == "地区" else "合计"
    out.append({label: total, cols[0]: te, cols[1]: tp, cols[2]: tp - te})
    return pd.DataFrame(out)


def zhangye_tables(frame: pd.DataFrame, tables: PublishedTables, t0: int,
                   last: int) -> dict[str, pd.DataFrame]:
    """表1, 表4 and 表5 in the plan's layout, recomputed from the solved ``beds.csv``."""
    start = frame[frame["year"] == t0]
    end = frame[frame["year"] == last]

    def rows(attr, keys):
        e, p = start.groupby(attr)["beds"].sum(), end.groupby(attr)["beds"].sum()
        return [(k, int(e.get(k, 0)), int(p.get(k, 0))) for k in keys]

    level_rows = rows("level", tables.level)
    return {
        T1: _table(level_rows, "定点医疗机构", {k: f"{k}定点医疗机构" for k in tables.level},
                   (EXISTING, PLANNED, "规划调整数（张）")),
        T4: _table(rows("county", tables.county), "地区", {k: k for k in tables.county},
                   (EXISTING, "按人口比例分配床位数（张）必需床位数", "床位调整数（张）")),
        T5: _table(level_rows, "定点医疗机构", {k: f"{k}医疗机构" for k in tables.level},
                   (EXISTING, PLANNED, "规划调整数（张）")),
    }
