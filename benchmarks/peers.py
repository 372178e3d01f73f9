"""Peer comparison on the same work: PySAL spopt's LSCP/MCLP, and a planner's greedy plan.

1. **Covering models against spopt.** For one year, on the Zhangye scenario (and on the 10×
   province of :mod:`benchmarks.generate`): demand = the populated planning cells, weighted by
   population; candidates = every facility of one kind (existing and applicants); a candidate
   reaches a cell when the cell centre lies within 1,060.82 m (the plan's 15-minute circle).
   Cells no candidate reaches are left out (LSCP would be infeasible). Both tools get the
   *same* dense distance matrix (projected metres; cities of a province never reach each
   other), so the instances are identical:

   * LSCP — fewest facilities reaching every coverable cell;
   * MCLP — most population covered with ``p`` facilities, ``p`` = ¼ and ½ of the LSCP optimum.

   spopt builds its PuLP model with ``from_cost_matrix`` and solves it with PuLP's HiGHS and
   CBC; dingdian builds :mod:`dingdian.models.coverage` from reach lists and solves it through
   :func:`dingdian.run.backends.run_backend` (highs, cbc, cpsat). The optima must be equal (the
   script stops otherwise); the table gives build and solve seconds and the time ratio.

2. **Greedy against the model.** :func:`dingdian.planners.greedy.greedy_plan` (what a planner does by
   hand: best-reviewed in, lowest-scored out, up to the yearly figures, coverage ignored)
   against the model's optimum on the Zhangye scenario: keep cells broken, populated cells and
   population covered in 2030, fillable blind spots filled, the rules each plan breaks
   (:func:`dingdian.check.verify.residuals`) and each plan's value of the model's objective.

    python benchmarks/peers.py [--scales 1,10] [--repeat 3] [--out benchmarks/results/peers.json]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: spopt). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pulp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import FIRST_SEED, city_scenario  # noqa: E402

from dingdian.check.verify import residuals  # noqa: E402
from dingdian.models.coverage import CoverageInstance, build_lscp, build_mclp, chosen  # noqa: E402
from dingdian.models.site import build_site_model  # noqa: E402
from dingdian.planners.greedy import greedy_plan  # noqa: E402
from dingdian.run.backends import run_backend, solve  # noqa: E402
from dingdian.scenario.loader import load_scenario  # noqa: E402

RADIUS_M = 1060.82
ZHANGYE = ROOT / "scenarios" / "zhangye" / "scenario.yaml"


# --------------------------------------------------------------------------- 1. coverage
def distance_matrix(scale: int, kind: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(distances cells × candidates, populations, candidate ids)`` for ``scale`` cities;
    pairs in different cities are ``inf``."""
    blocks, pops, ids = [], [], []
    for i in range(scale):
        sc = load_scenario(ZHANGYE if i == 0 and scale == 1 else city_scenario(FIRST_SEED + i),
                           allow_outside=True)
        cells = sc.cells[sc.cells["population"] > 0]
        fac = sc.facilities[sc.facilities["kind"] == kind]
        cxy, fxy = cells[["x", "y"]].to_numpy(float), fac[["x", "y"]].to_numpy(float)
        blocks.append(np.hypot(cxy[:, None, 0] - fxy[None, :, 0], cxy[:, None, 1] - fxy[None, :, 1]))
        pops.append(cells["population"].to_numpy(int))
        ids += [f"{i}:{fid}" for fid in fac["facility_id"]]
    rows, cols = sum(len(b) for b in blocks), sum(b.shape[1] for b in blocks)
    dist = np.full((rows, cols), np.inf)
    r = c = 0
    for b in blocks:
        dist[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    pop = np.concatenate(pops)
    keep = (dist <= RADIUS_M).any(axis=1)
    return dist[keep], pop[keep], ids


def instance(dist: np.ndarray, pop: np.ndarray, ids: list[str]) -> CoverageInstance:
    reach = tuple(tuple(int(j) for j in np.flatnonzero(row <= RADIUS_M)) for row in dist)
    return CoverageInstance(cells=tuple(f"i{k}" for k in range(len(dist))),
                            population=tuple(int(p) for p in pop), candidates=tuple(ids),
                            reach=reach)


def run_spopt(model: str, dist, pop, p, solver_name: str) -> dict:
    from spopt.locate import LSCP, MCLP

    solver = {"highs": pulp.HiGHS(msg=False), "cbc": pulp.COIN_CMD(msg=False)}[solver_name]
    t0 = time.perf_counter()
    if model == "lscp":
        m = LSCP.from_cost_matrix(dist, RADIUS_M)
    else:
        m = MCLP.from_cost_matrix(dist, pop, RADIUS_M, p_facilities=p)
    t1 = time.perf_counter()
    m.solve(solver, results=False)
    t2 = time.perf_counter()
    value = pulp.value(m.problem.objective)
    return {"tool": f"spopt+{solver_name}", "build_s": t1 - t0, "solve_s": t2 - t1,
            "optimum": round(value)}


def run_dingdian(model: str, inst: CoverageInstance, p, backend: str) -> dict:
    t0 = time.perf_counter()
    m = build_lscp(inst) if model == "lscp" else build_mclp(inst, p)
    t1 = time.perf_counter()
    status, objective, _bound, values, _msg = run_backend(m, backend)
    t2 = time.perf_counter()
    if status != "optimal":
        raise SystemExit(f"dingdian {model} on {backend}: {status}")
    value = objective if model == "lscp" else -objective
    picks = chosen(m, values)
    return {"tool": f"dingdian+{backend}", "build_s": t1 - t0, "solve_s": t2 - t1,
            "optimum": round(value), "picks": len(picks)}


def coverage_rows(scale: int, repeat: int) -> list[dict]:
    rows = []
    for kind in ("pharmacy", "clinic"):
        dist, pop, ids = distance_matrix(scale, kind)
        inst = instance(dist, pop, ids)
        lscp_opt = None
        runs = []
        for model in ("lscp", "mclp"):
            ps = [None] if model == "lscp" else sorted({max(1, lscp_opt // 4),
                                                        max(1, lscp_opt // 2)})
            for p in ps:
                tools = [("spopt", "highs"), ("spopt", "cbc"), ("dingdian", "highs"),
                         ("dingdian", "cbc"), ("dingdian", "cpsat")]
                results = []
                for tool, backend in tools:
                    reps = [run_spopt(model, dist, pop, p, backend) if tool == "spopt"
                            else run_dingdian(model, inst, p, backend) for _ in range(repeat)]
                    best = dict(reps[-1])
                    for key in ("build_s", "solve_s"):
                        best[key] = statistics.median(r[key] for r in reps)
                    results.append(best)
                optima = {r["optimum"] for r in results}
                if len(optima) != 1:
                    raise SystemExit(f"optima differ on {kind} {model} p={p}: {results}")
                if model == "lscp":
                    lscp_opt = results[0]["optimum"]
                ref = next(r for r in results if r["tool"] == "spopt+highs")
                for r in results:
                    total, ref_total = r["build_s"] + r["solve_s"], ref["build_s"] + ref["solve_s"]
                    runs.append({"scale": scale, "kind": kind, "model": model, "p": p,
                                 "cells": len(dist), "candidates": len(ids), **r,
                                 "total_s": total, "vs_spopt_highs": total / ref_total})
        rows += runs
    return rows


# --------------------------------------------------------------------------- 2. greedy
def plan_metrics(problem, designated: pd.DataFrame) -> dict:
    """Coverage and broken rules of one plan (facility × year)."""
    d = designated
    years = list(problem.years)
    last = years[-1]
    keep_broken, keep_years, gain_filled, covered_cells, covered_pop = set(), 0, 0, 0, 0
    for cv in problem.cover:
        reach = d.loc[list(cv.facilities)] if cv.facilities else d.iloc[0:0]
        for t in years:
            hit = int(reach[t].sum()) >= 1
            if cv.mode == "keep" and not hit:
                keep_broken.add((cv.cell, cv.kind))
                keep_years += 1
        hit_last = int(reach[last].sum()) >= 1
        covered_cells += hit_last
        covered_pop += cv.population * hit_last
        gain_filled += cv.mode == "gain" and hit_last
    found = residuals(_plan_frame(problem, d), problem)
    families: dict[str, int] = {}
    for line in found:
        fam = " ".join(line.split(":")[0].split()[:2])
        families[fam] = families.get(fam, 0) + 1
    flows = np.diff(d[[problem.base_year, *years]].to_numpy(), axis=1)
    return {"exits": int((flows < 0).sum()), "admissions": int((flows > 0).sum()),
            "keep_cells_broken": len(keep_broken), "keep_cell_years_broken": keep_years,
            f"cell_kinds_covered_{last}": covered_cells, f"population_covered_{last}": covered_pop,
            f"blind_spots_filled_{last}": gain_filled, "residuals": families}


def _plan_frame(problem, d: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for f in problem.facilities:
        row = {"facility_id": f.id, "kind": f.kind, "county": f.county, "street": f.street,
               "protected": f.protected, "status": "existing" if f.existing else "applicant"}
        row.update({str(t): int(d.at[f.id, t]) for t in d.columns})
        rows.append(row)
    return pd.DataFrame(rows)


def greedy_rows(backend: str = "highs") -> list[dict]:
    problem = load_scenario(ZHANGYE).problem
    result = solve(problem, backend)
    model = build_site_model(problem)
    if objective_of(problem, model, result.designated) != result.objective:  # self-check
        raise SystemExit("objective_of does not reproduce the solver's objective")
    t0 = time.perf_counter()
    greedy = greedy_plan(problem)
    greedy_s = time.perf_counter() - t0
    out = []
    for name, plan, secs in (("model optimum", result.designated, result.solve_seconds),
                             ("greedy", greedy, greedy_s)):
        out.append({"plan": name, **plan_metrics(problem, plan),
                    "objective": objective_of(problem, model, plan), "seconds": secs})
    return out


def objective_of(problem, model, d: pd.DataFrame) -> float:
    """The model's objective for a given plan: x, a, e from the plan; g, o, u at their best."""
    years = list(problem.years)
    prev = dict(zip(years, (problem.base_year, *years[:-1]), strict=True))
    total = 0.0
    w = problem.weights
    score = {f.id: f.score for f in problem.facilities}
    changes: dict[tuple[str, str, int], int] = {}
    kind_of = {f.id: (f.county, f.kind) for f in problem.facilities}
    for (fid, t), _v in model.e.items():
        if d.at[fid, prev[t]] == 1 and d.at[fid, t] == 0:
            total += w.exit_score * score[fid] + w.churn
            key = (*kind_of[fid], t)
            changes[key] = changes.get(key, 0) + 1
    for (fid, t), _v in model.a.items():
        if d.at[fid, prev[t]] == 0 and d.at[fid, t] == 1:
            total += w.churn - w.admit_review * score[fid]
            key = (*kind_of[fid], t)
            changes[key] = changes.get(key, 0) + 1
    peaks: dict[tuple[str, str], int] = {}
    for (county, kind, _t), n in changes.items():
        peaks[county, kind] = max(peaks.get((county, kind), 0), n)
    total += w.spread * sum(peaks.values())
    for cv in problem.cover:
        if cv.mode == "gain":
            for t in years:
                if cv.facilities and int(d.loc[list(cv.facilities), t].sum()) >= 1:
                    total -= w.coverage * cv.population
    for cr in problem.crowd:
        for t in years:
            total += w.crowding * max(0, int(d.loc[list(cr.facilities), t].sum()) - 1)
    return total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    cov = [r for s in args.scales.split(",") for r in coverage_rows(int(s), args.repeat)]
    greedy = greedy_rows()
    print(pd.DataFrame(cov).to_string())
    print(pd.DataFrame(greedy).to_string())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"coverage": cov, "greedy": greedy}, indent=1,
                                       ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
