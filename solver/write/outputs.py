"""Write a solved plan to an output directory, atomically.

:func:`write_outputs` builds every file in a temporary directory next to ``out_dir`` and swaps
it into place only when all files are written; on any error (or Ctrl-C) the temporary
directory is removed and an earlier ``out_dir`` is left untouched. Files::

    plan.csv       one row per facility, 0/1 designation per year, admitted/exited year
    cells.csv      planning cells with the number of designated facilities in reach per year
    counts.csv     designated/admitted/exited per county, street and city, kind and year
    decisions.csv  every admission and exit with the rule and figures behind it
    roles.csv      (allocation roles) the pharmacies holding each role, per county
    tables/表6_….csv … tables/表9_….csv   the plan's yearly tables (utf-8-sig)
    plan.xlsx      表6–表9 with the plan's merged headings, 规划 (plan.csv), 汇总 (summary)
    summary.json   solver status, objective, coverage, targets, verification

The frame builders (:func:`plan_frame`, :func:`cells_frame`, :func:`summary_dict`) are public
so that the CLI and the verifier can use the very frame written to plan.csv.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write import allocation as allocation_report
from dingdian.write import tables as T
from dingdian.write.decisions import decisions_frame

PLAN_FIRST = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
              "protected", "score"]
CELL_FIRST = ["cell_id", "county", "street", "lon", "lat", "radius_m", "population",
              "must_cover_clinic", "must_cover_pharmacy", "blind_spot"]
#: facility columns some scenarios carry (Heze: which rule exempted it, its priority class, the
#: facility whose address it takes over); copied into plan.csv after the flow years when present
PLAN_OPTIONAL = ["exempt_rule", "priority_class", "moves_from"]
CELL_EXTRA = ["zone", "blind_spot_clinic", "blind_spot_pharmacy", "gain_clinic", "gain_pharmacy"]
CSV_ENCODING = "utf-8"
TABLE_ENCODING = "utf-8-sig"


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
        return pd.array([int(flags.columns[row.argmax()]) if row.any() else None for row in hit],
                        dtype="Int64")

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
    return _jsonable(out)


def _jsonable(obj: Any) -> Any:
    """numpy scalars → Python, NaN/inf → None, tuples → lists, recursively."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if obj is pd.NA or obj is None:
        return None
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_csv(path: Path, frame: pd.DataFrame, encoding: str = CSV_ENCODING) -> None:
    """One CSV file (no index)."""
    frame.to_csv(path, index=False, encoding=encoding)


def write_tables(tables_dir: Path, tables: list[tuple[T.TableSpec, pd.DataFrame]]) -> None:
    """tables/<file_stem>.csv for each table, utf-8-sig."""
    tables_dir.mkdir()
    for spec, frame in tables:
        write_csv(tables_dir / f"{spec.file_stem}.csv", frame, TABLE_ENCODING)


def write_summary(path: Path, summary: dict) -> None:
    """summary.json, ASCII off, indent 2."""
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _summary_rows(summary: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten the summary's scalars to ``(dotted.key, value)`` rows (lists of dicts skipped)."""
    rows: list[tuple[str, Any]] = []
    for k, v in summary.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _summary_rows(v, key + ".")
        elif isinstance(v, list):
            if all(not isinstance(x, dict) for x in v):
                rows.append((key, "; ".join(map(str, v))))
        else:
            rows.append((key, v))
    return rows


def write_xlsx(path: Path, tables, plan: pd.DataFrame, summary: dict,
               sheets: dict[str, pd.DataFrame] | None = None) -> None:
    """plan.xlsx: one sheet per table (表6 …), 规划 (plan.csv), 汇总 (summary), then ``sheets``
    (the beds and nursing tables)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for spec, frame in tables:
        T.write_table_sheet(wb.create_sheet(spec.number), spec, frame)
    ws = wb.create_sheet("规划")
    ws.append(list(map(str, plan.columns)))
    for row in plan.itertuples(index=False):
        ws.append([_jsonable(v) for v in row])
    ws.freeze_panes = "B2"
    ws = wb.create_sheet("汇总")
    ws.append(["项目 item", "值 value"])
    for key, value in _summary_rows(summary):
        ws.append([key, value if isinstance(value, (int, float, str, type(None))) else str(value)])
    ws.append([])
    targets = summary.get("targets") or []
    if targets:
        cols = list(dict.fromkeys(k for row in targets for k in row))
        ws.append(cols)
        for row in targets:
            ws.append([row.get(c) for c in cols])
    ws.column_dimensions["A"].width = 48
    for name, frame in (sheets or {}).items():
        ws = wb.create_sheet(name[:31])  # Excel's limit on sheet names
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([_jsonable(v) for v in row])
    wb.save(path)


def street_order(quotas: pd.DataFrame) -> list[tuple[str, str]]:
    """``(county, street)`` pairs in the order of the street quota rows (表8/表9)."""
    if quotas is None or len(quotas) == 0:
        return []
    q = quotas[quotas["level"] == "street"] if "level" in quotas else quotas
    col = "area" if "area" in q else "street"
    if col not in q:
        return []
    return list(dict.fromkeys(zip(q["county"].astype(str), q[col].astype(str), strict=True)))


def write_extras(tmp: Path, extras) -> None:
    """Files of the planners beside the site model (beds, nursing): ``tables/`` with a BOM."""
    for extra in extras:
        for rel, frame in extra.files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(path, frame, TABLE_ENCODING if rel.startswith("tables/") else CSV_ENCODING)


def _gate_summary(gate: pd.DataFrame) -> list[dict]:
    return [{"year": int(r.year), "open": bool(r.open), "reasons": str(r.reasons)}
            for r in gate.itertuples(index=False)]


def _write_all(tmp: Path, scenario, result, verification, extra_summary, extras=()) -> None:
    facilities = scenario.facilities
    plan = plan_frame(facilities, result.designated, result.choices)
    cells_out = cells_frame(scenario.cells, scenario.reach, plan)
    streets = street_order(scenario.quotas)
    counties = list(dict.fromkeys(scenario.targets["county"]))
    counts = T.counts_frame(facilities, result.designated, counties=counties, streets=streets)
    street_counties = list(dict.fromkeys(c for c, _ in streets))
    specs = T.table_specs(city=getattr(scenario.config, "city", None) or "张掖市",
                          street_county=street_counties[0] if street_counties else None)
    tables = T.all_tables(counts, specs, years=plan_years(scenario)[1:])
    gate = getattr(scenario, "gate", None)
    more: dict = {e.name: {**e.summary, "violations": list(e.violations)} for e in extras}
    if gate is not None:
        more["fund_gate"] = _gate_summary(gate)
    problem = getattr(scenario, "problem", None)
    allocation = allocation_report.summary(plan, problem) if problem is not None else {}
    if allocation:
        more["allocation"] = allocation
    summary = summary_dict(scenario, result, cells_out, counts, verification,
                           {**more, **(extra_summary or {})})
    write_csv(tmp / "plan.csv", plan)
    write_csv(tmp / "cells.csv", cells_out)
    write_csv(tmp / "counts.csv", counts)
    decisions = decisions_frame(facilities, result.designated, scenario.quotas, scenario.reach,
                                scenario.cells)
    if allocation:
        decisions = allocation_report.annotate_decisions(decisions, plan, problem)
    write_csv(tmp / "decisions.csv", decisions)
    sheets = {name: frame for e in extras for name, frame in e.sheets.items()}
    if problem is not None and problem.roles:
        roles = allocation_report.roles_frame(plan, problem)
        write_csv(tmp / "roles.csv", roles)
        sheets["药店角色 roles"] = roles
    if gate is not None:
        write_csv(tmp / "gate.csv", gate)
    write_tables(tmp / "tables", tables)
    write_extras(tmp, extras)
    write_xlsx(tmp / "plan.xlsx", tables, plan, summary, sheets)
    write_summary(tmp / "summary.json", summary)


def atomic_file(path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then swap it in whole.

    On any error the temporary file is removed and an earlier ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@contextmanager
def atomic_directory(out_dir) -> Iterator[Path]:
    """Build a directory in a temporary sibling and swap it into ``out_dir`` at the end.

    Yields the temporary directory to write into. On any error or Ctrl-C inside the block the
    temporary directory is removed and an earlier ``out_dir`` is left untouched; on success the
    old directory is replaced whole.
    """
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    old: Path | None = None
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out_dir, old)
        try:
            os.rename(tmp, out_dir)
        except BaseException:
            if old is not None:
                os.rename(old, out_dir)
                old = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_outputs(out_dir, scenario, result, *, verification=None, extra_summary=None,
                  extras=()) -> Path:
    """Write every output file of a solved plan to ``out_dir`` atomically; return its path.

    ``verification`` is :func:`dingdian.check.verify.check_plan`'s list (``None``: not checked);
    ``extra_summary`` is merged into summary.json. Raises ``ValueError`` if ``result`` has no
    plan and ``OSError`` if the directory cannot be written; ``out_dir`` is then unchanged.
    """
    if result.designated is None:
        raise ValueError(f"result has no plan (status {result.status})")
    with atomic_directory(out_dir) as tmp:
        _write_all(tmp, scenario, result, verification, extra_summary, extras)
    return Path(out_dir).absolute()
