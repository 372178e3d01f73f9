"""The contents of the output files of a solved plan, computed, not written.

:func:`plan_files` computes every frame of ``OUT/`` (:class:`PlanFiles`) from a scenario and a
solve; :mod:`dingdian.write.outputs` writes them. The frame builders (:func:`plan_frame`,
:func:`cells_frame`, :func:`summary_dict`) are public so that the verifier, the sweeps and the
notebooks use the very frame written to plan.csv.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write import allocation as allocation_report
from dingdian.write import blind_text
from dingdian.write import tables as T
from dingdian.write.decisions import decisions_frame
from dingdian.write.gis import GeoPackage, plan_layers
from dingdian.write.proposals import proposal_summary, zone_proposals

PLAN_FIRST = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
              "protected", "score"]
CELL_FIRST = ["cell_id", "county", "street", "lon", "lat", "radius_m", "population",
              "must_cover_clinic", "must_cover_pharmacy", "blind_spot"]
#: facility columns some scenarios carry (Heze: which rule exempted it, its priority class, the
#: facility whose address it takes over; every scenario: why a protected facility never exits,
#: 保护类别); copied into plan.csv after the flow years when present
PLAN_OPTIONAL = ["exempt_rule", "priority_class", "moves_from", "protected_class"]
CELL_EXTRA = ["zone", "blind_spot_clinic", "blind_spot_pharmacy", "gain_clinic", "gain_pharmacy"]


def plan_years(scenario) -> list[int]:
    """Base year followed by the planning years of ``scenario.config``."""
    cfg = scenario.config
    return [int(cfg.base_year), *(int(y) for y in cfg.years)]


def plan_frame(facilities: pd.DataFrame, designated: pd.DataFrame,
               choices: dict | None = None) -> pd.DataFrame:
    """plan.csv: facility attributes, one 0/1 column per year, then status and flow years.

    ``admitted_year``/``exited_year`` are the first year of a 0→1 / 1→0 change (nullable, empty
    when none). ``choices`` (:attr:`dingdian.result.SolveResult.choices`) fills the allocation
    columns (``approval``, ``role_<code>``) when the scenario has allocation rules.
    """
    d, adm, ext = T.flows_wide(facilities, designated)
    fac = facilities.reset_index(drop=True)
    out = pd.DataFrame({c: (fac[c] if c in fac else "") for c in PLAN_FIRST})
    out["facility_id"] = out["facility_id"].astype(str)
    out["protected"] = out["protected"].fillna(False).astype(bool)
    for y in d.columns:
        out[str(y)] = d[y].to_numpy()
    out["status"] = fac["status"].to_numpy() if "status" in fac else ""

    def first_year(flags: pd.DataFrame):
        hit = flags.to_numpy().astype(bool)
        years = np.array([int(c) for c in flags.columns] or [0], dtype=np.int64)
        first = years[hit.argmax(axis=1)] if hit.shape[1] else np.zeros(len(hit), np.int64)
        return pd.arrays.IntegerArray(first, ~hit.any(axis=1))

    out["admitted_year"] = first_year(adm)
    out["exited_year"] = first_year(ext)
    for col in PLAN_OPTIONAL:
        if col in fac:
            out[col] = fac[col].fillna("").astype(str).to_numpy()
    allocation_report.plan_columns(out, fac, choices)
    return out


def designated_from_plan(plan: pd.DataFrame) -> pd.DataFrame:
    """The facility × year 0/1 table back from a plan frame (index facility_id, int years)."""
    cols = [c for c in plan.columns if re.fullmatch(r"\d{4}", str(c))]
    d = plan.set_index(plan["facility_id"].astype(str))[cols].astype(int)
    d.columns = [int(c) for c in cols]
    return d


def cells_frame(cells: pd.DataFrame, reach: dict, plan: pd.DataFrame) -> pd.DataFrame:
    """cells.csv: cell attributes plus ``<kind>_<year>`` = designated facilities within reach."""
    d = designated_from_plan(plan)
    years = list(d.columns)
    first = [c for c in CELL_FIRST + CELL_EXTRA if c in cells]
    out = cells[first].reset_index(drop=True).copy()
    out["cell_id"] = out["cell_id"].astype(str)
    pairs = [(str(cell), kind, str(fid)) for (cell, kind), ids in reach.items() for fid in ids]
    long = pd.DataFrame(pairs, columns=["cell_id", "kind", "facility_id"])
    long = long[long["facility_id"].isin(d.index)]
    vals = d.reindex(long["facility_id"]).to_numpy()
    per = pd.DataFrame(vals, columns=years)
    per["cell_id"], per["kind"] = long["cell_id"].to_numpy(), long["kind"].to_numpy()
    sums = per.groupby(["cell_id", "kind"])[years].sum()
    for kind in KINDS:
        k = sums.xs(kind, level="kind") if kind in sums.index.get_level_values("kind") else None
        for y in years:
            col = k[y].reindex(out["cell_id"]) if k is not None else None
            out[f"{kind}_{y}"] = 0 if col is None else col.fillna(0).astype(int).to_numpy()
    return out


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return frame[col].fillna(False).astype(bool)


def _scope(cells_out: pd.DataFrame, reach: dict | None, kind: str) -> pd.Series:
    """Cells in the service-circle model of ``kind`` (a ``reach`` key; all cells if unknown)."""
    if reach is None:
        return pd.Series(True, index=cells_out.index)
    keys = {str(c) for (c, k) in reach if k == kind}
    return cells_out["cell_id"].astype(str).isin(keys)


def coverage_summary(cells_out: pd.DataFrame, years: list[int], reach: dict | None = None) -> dict:
    """Per kind and year: must-cover cells covered, population covered, gain cells filled.

    Population figures are over the cells in the kind's service-circle model (those with a
    ``reach`` entry: e.g. clinics only in urban cells, village clinics being out of scope).
    """
    pop = cells_out["population"].fillna(0).astype(int)
    res: dict = {}
    for kind in KINDS:
        scope = _scope(cells_out, reach, kind)
        must = _flag(cells_out, f"must_cover_{kind}") & (pop > 0)
        gain = _flag(cells_out, f"gain_{kind}")
        total_pop = int(pop[scope].sum())
        res[kind] = {}
        for y in years:
            cov = (cells_out.get(f"{kind}_{y}", pd.Series(0, index=cells_out.index)) > 0) & scope
            covered_pop = int(pop[cov].sum())
            share = round(covered_pop / total_pop, 6) if total_pop else None
            res[kind][str(y)] = {
                "must_cover_cells": int(must.sum()),
                "must_cover_covered": int((must & cov).sum()),
                "population_in_scope": total_pop,
                "population_covered": covered_pop,
                "population_covered_share": share,
                "gain_cells": int(gain.sum()),
                "gain_cells_filled": int((gain & cov).sum()),
            }
    return res


def blind_spot_summary(cells_out: pd.DataFrame, last_year: int, reach: dict | None = None) -> dict:
    """Blind spots per kind (scenario flags) and in-scope populated cells still uncovered."""
    pop = cells_out["population"].fillna(0).astype(int)
    res = {}
    for kind in KINDS:
        blind = _flag(cells_out, f"blind_spot_{kind}")
        cov = cells_out.get(f"{kind}_{last_year}", pd.Series(0, index=cells_out.index)) > 0
        left = (pop > 0) & ~cov & _scope(cells_out, reach, kind)
        res[kind] = {"cells": int(blind.sum()), "population": int(pop[blind].sum()),
                     f"uncovered_cells_{last_year}": int(left.sum()),
                     f"uncovered_population_{last_year}": int(pop[left].sum())}
    return res


def target_summary(targets: pd.DataFrame, counts: pd.DataFrame, base_year: int) -> list[dict]:
    """Per county and kind: designated counts in the base and target years vs the targets."""
    tcols = {int(m.group(1)): c for c in targets.columns
             if (m := re.fullmatch(r"target_(\d{4})", str(c)))}
    county_rows = counts[counts["street"] == ""].set_index(["county", "kind", "year"])
    rows = []
    for t in targets.itertuples(index=False):
        t = t._asdict()
        row: dict[str, Any] = {"county": t["county"], "kind": t["kind"]}
        if "existing_2024" in t:
            row["existing"] = t["existing_2024"]
        for y in [base_year, *sorted(tcols)]:
            key = (t["county"], t["kind"], y)
            row[f"designated_{y}"] = (int(county_rows.loc[key, "designated"])
                                      if key in county_rows.index else None)
            if y in tcols:
                row[f"target_{y}"] = t[tcols[y]]
        rows.append(row)
    return rows


def _version() -> str:
    """The installed distribution's version (``summary.json``: ``version``)."""
    try:
        return version("dingdian")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def summary_dict(scenario, result, cells_out, counts, verification=None, extra=None) -> dict:
    """summary.json content (also the 汇总 sheet)."""
    years = plan_years(scenario)
    cfg = scenario.config
    out: dict[str, Any] = {
        "scenario": {"name": getattr(cfg, "name", ""), "title": getattr(cfg, "title", ""),
                     "path": str(Path(getattr(scenario, "path", "")).absolute())},
        "solver": result.backend,
        "solver_options": dict(getattr(result, "options", {}) or {}),
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "build_seconds": round(float(result.build_seconds), 3),
        "solve_seconds": round(float(result.solve_seconds), 3),
        "message": result.message,
        "model_size": {"variables": result.n_variables, "constraints": result.n_constraints},
        "objective_terms": dict(result.objective_terms),
        "stages": [dict(st) for st in getattr(result, "stages", ())],
        "unique": getattr(result, "unique", None),
        "coverage": coverage_summary(cells_out, years, getattr(scenario, "reach", None)),
        "blind_spots": blind_spot_summary(cells_out, years[-1], getattr(scenario, "reach", None)),
        "targets": target_summary(scenario.targets, counts, years[0]),
        "verification": {"passed": verification is not None and not verification,
                         "checked": verification is not None,
                         "violations": list(verification or [])},
        "dingdian_version": _version(),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "synthetic_data": True,
        "note": getattr(cfg, "synthetic", None)
        or "facilities, scores and cells are synthetic, not the real registry (合成数据).",
    }
    out.update(extra or {})
    return jsonable(out)


def jsonable(obj: Any) -> Any:
    """numpy scalars → Python, NaN/inf → None, tuples → lists, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if obj is pd.NA or obj is None:
        return None
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def street_order(quotas: pd.DataFrame) -> list[tuple[str, str]]:
    """``(county, street)`` pairs in the order of the street quota rows (表8/表9)."""
    if quotas is None or len(quotas) == 0:
        return []
    q = quotas[quotas["level"] == "street"] if "level" in quotas else quotas
    col = "area" if "area" in q else "street"
    if col not in q:
        return []
    return list(dict.fromkeys(zip(q["county"].astype(str), q[col].astype(str), strict=True)))


def gate_summary(gate: pd.DataFrame) -> list[dict]:
    return [{"year": int(r.year), "open": bool(r.open), "reasons": str(r.reasons)}
            for r in gate.itertuples(index=False)]


@dataclass(frozen=True)
class PlanFiles:
    """Every output file of a solved plan, as frames and a summary, before anything is written.

    ``tables`` are the yearly tables (表6–表9) with their layout, ``extras`` the planners' own
    files and sheets (:class:`dingdian.result.ExtraResult`); ``roles``, ``gate`` and
    ``proposals`` are None when the scenario has no pharmacy roles, no fund gate or no special
    zones; ``gpkg`` holds the layers of plan.gpkg (:mod:`dingdian.write.gis`; empty when the
    scenario has no CRS). :func:`dingdian.write.outputs.write_plan_files`
    writes them (the file names are the output contract of the module docstring there).
    """

    plan: pd.DataFrame
    cells: pd.DataFrame
    counts: pd.DataFrame
    decisions: pd.DataFrame
    tables: tuple[tuple[T.TableSpec, pd.DataFrame], ...]
    summary: dict
    roles: pd.DataFrame | None = None
    gate: pd.DataFrame | None = None
    proposals: pd.DataFrame | None = None
    extras: tuple = ()
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)
    gpkg: GeoPackage = field(default_factory=GeoPackage)


def plan_files(scenario, result, *, verification=None, extra_summary=None,
               extras=()) -> PlanFiles:
    """The contents of every output file of ``result`` (a :class:`dingdian.result.SolveResult`
    with a plan) solved on ``scenario``.

    ``verification`` is :func:`dingdian.check.verify.check_plan`'s list (``None``: not checked),
    ``extras`` the planners beside the site model and ``extra_summary`` sections merged into
    summary.json.
    """
    facilities = scenario.facilities
    plan = plan_frame(facilities, result.designated, result.choices)
    cells_out = cells_frame(scenario.cells, scenario.reach, plan)
    more: dict = {"blind_spots_definition": blind_text.definition(scenario.config)}
    radius = blind_text.text_radius(scenario)
    if radius is not None:  # 五(二)2 服务覆盖盲区 beside the cell-radius blind spots
        cells_out, more["blind_spots_text"] = blind_text.text_section(
            cells_out, scenario.cells, facilities, designated_from_plan(plan),
            plan_years(scenario), radius)
    streets = street_order(scenario.quotas)
    counties = list(dict.fromkeys(scenario.targets["county"]))
    counts = T.counts_frame(facilities, result.designated, counties=counties, streets=streets)
    street_counties = list(dict.fromkeys(c for c, _ in streets))
    specs = T.table_specs(city=getattr(scenario.config, "city", None) or "张掖市",
                          street_county=street_counties[0] if street_counties else None,
                          names=dict(getattr(scenario.config, "table_names", {}) or {}),
                          titles=dict(getattr(scenario.config, "table_titles", {}) or {}))
    tables = T.all_tables(counts, specs, years=plan_years(scenario)[1:])
    gate = getattr(scenario, "gate", None)
    more.update({e.name: {**e.summary, "violations": list(e.violations)} for e in extras})
    if gate is not None:
        more["fund_gate"] = gate_summary(gate)
    problem = getattr(scenario, "problem", None)
    allocation = allocation_report.summary(plan, problem) if problem is not None else {}
    proposals = None
    if "special_zones" in allocation:  # 五(二)2: the candidates for expert review
        proposals = zone_proposals(plan, problem, tuple(scenario.config.allocation.zones.kinds))
        allocation["special_zones"]["proposals"] = proposal_summary(proposals)
    if allocation:
        more["allocation"] = allocation
    summary = summary_dict(scenario, result, cells_out, counts, verification,
                           {**more, **(extra_summary or {})})
    decisions = decisions_frame(facilities, result.designated, scenario.quotas, scenario.reach,
                                scenario.cells, problem)
    if allocation:
        decisions = allocation_report.annotate_decisions(decisions, plan, problem)
    sheets = {name: frame for e in extras for name, frame in e.sheets.items()}
    roles = None
    if problem is not None and problem.roles:
        roles = allocation_report.roles_frame(plan, problem)
        sheets["药店角色 roles"] = roles
    if proposals is not None:
        sheets["特殊区域准入建议 proposals"] = proposals
    return PlanFiles(plan=plan, cells=cells_out, counts=counts, decisions=decisions,
                     tables=tuple(tables), summary=summary, roles=roles, gate=gate,
                     proposals=proposals, extras=tuple(extras), sheets=sheets,
                     gpkg=plan_layers(scenario, plan, cells_out, counts))
