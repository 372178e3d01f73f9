"""The comparison frames: counts, coverage, summary and facilities of the runs side by side.

Each frame is long, with one column per run (named by the run's label) and, for exactly two
runs, a ``delta`` column = second − first (see :mod:`dingdian.write.compare` for the four
frames' keys): :func:`compare_counts` from counts.csv, :func:`compare_coverage` from cells.csv
and summary.json (:func:`coverage_rows`), :func:`compare_summary` from summary.json
(:func:`summary_measures`) and :func:`compare_facilities` from plan.csv (:func:`describe_path`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write.compare_runs import COUNT_MEASURES, DELTA, FACILITY_FIRST, PlanRun
from dingdian.write.frames import jsonable
from dingdian.write.tables import CITY_TOTAL, COUNT_COLUMNS

#: per county, kind and year, from cells.csv (city rows: summary.json)
COVERAGE_MEASURES = (
    "population_in_scope", "population_covered", "must_cover_cells", "must_cover_covered",
    "gain_cells", "gain_cells_filled", "blind_spot_cells", "blind_spot_population",
    "uncovered_cells", "uncovered_population",
)


# ------------------------------------------------------------------------------- comparing


def _delta(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Add ``delta`` = second − first run when there are exactly two runs (Int64)."""
    if len(labels) == 2:
        frame[DELTA] = frame[labels[1]] - frame[labels[0]]
    return frame


def _side_by_side(frames: Sequence[pd.DataFrame], keys: list[str], labels: Sequence[str],
                  value: str = "value") -> pd.DataFrame:
    """Outer-join long frames ``keys + [value]`` into one column per label (Int64), keeping
    the first frame's row order, then the rows only later frames have."""
    order: dict[tuple, int] = {}
    for f in frames:
        for key in f[keys].itertuples(index=False, name=None):
            order.setdefault(key, len(order))
    index = pd.MultiIndex.from_tuples(list(order), names=keys)
    out = pd.DataFrame(index=index)
    for lab, f in zip(labels, frames, strict=True):
        s = f.set_index(keys)[value]
        out[lab] = s.reindex(index).astype("Int64")
    return _delta(out.reset_index(), labels)


def compare_counts(runs: Sequence[PlanRun]) -> pd.DataFrame:
    """counts.csv side by side: ``county, street, kind, year, measure, <label>…[, delta]``."""
    longs = []
    for run in runs:
        c = run.counts[COUNT_COLUMNS].reset_index(drop=True)
        rows = [c.assign(measure=m, value=c[m], _r=c.index, _m=i)
                for i, m in enumerate(COUNT_MEASURES)]
        long = pd.concat(rows).sort_values(["_r", "_m"], kind="stable")
        longs.append(long[["county", "street", "kind", "year", "measure", "value"]])
    return _side_by_side(longs, ["county", "street", "kind", "year", "measure"],
                         [r.label for r in runs])


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return pd.to_numeric(frame[col], errors="coerce").fillna(0).astype(bool)


def _county_order(run: PlanRun) -> list[str]:
    rows = run.counts[run.counts["street"] == ""]
    return [c for c in dict.fromkeys(rows["county"]) if c != CITY_TOTAL]


def coverage_rows(run: PlanRun) -> pd.DataFrame:
    """Long ``county, kind, year, measure, value`` coverage of one run.

    County rows come from cells.csv: the cells in a kind's service-circle model are those
    flagged must-cover, gain or blind spot for it (all cells when the flags are absent);
    ``uncovered_*`` are the populated ones of those without a facility within reach that
    year. City rows (全市) are summary.json's ``coverage`` and ``blind_spots``; what summary.json
    does not hold (uncovered cells before the last year) is the sum of the county rows.
    """
    years = run.years
    rows: list[tuple] = []
    cells = run.cells
    if cells is not None:
        pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).astype(int)
        counties = [*_county_order(run),
                    *(c for c in dict.fromkeys(cells["county"]) if c not in _county_order(run))]
        for county in counties:
            here = cells["county"] == county
            for kind in KINDS:
                flags = [f"must_cover_{kind}", f"gain_{kind}", f"blind_spot_{kind}"]
                scope = (here & (pop > 0)) if not any(f in cells for f in flags) else here & (
                    _flag(cells, flags[0]) | _flag(cells, flags[1]) | _flag(cells, flags[2]))
                must, gain = _flag(cells, flags[0]) & here, _flag(cells, flags[1]) & here
                blind = _flag(cells, flags[2]) & here
                for y in years:
                    col = f"{kind}_{y}"
                    if col not in cells:
                        continue
                    cov = (pd.to_numeric(cells[col], errors="coerce").fillna(0) > 0) & scope
                    left = scope & (pop > 0) & ~cov
                    values = (int(pop[scope].sum()), int(pop[cov].sum()), int(must.sum()),
                              int((must & cov).sum()), int(gain.sum()), int((gain & cov).sum()),
                              int(blind.sum()), int(pop[blind].sum()), int(left.sum()),
                              int(pop[left].sum()))
                    rows += [(county, kind, y, m, v)
                             for m, v in zip(COVERAGE_MEASURES, values, strict=True)]
    frame = pd.DataFrame(rows, columns=["county", "kind", "year", "measure", "value"])
    county_sum = frame.groupby(["kind", "year", "measure"])["value"].sum() if rows else None

    cov = run.summary.get("coverage") or {}
    blind = run.summary.get("blind_spots") or {}
    city = []
    for kind in KINDS:
        b = blind.get(kind) or {}
        for y in years:
            c = (cov.get(kind) or {}).get(str(y)) or {}
            picked = {
                "population_in_scope": c.get("population_in_scope"),
                "population_covered": c.get("population_covered"),
                "must_cover_cells": c.get("must_cover_cells"),
                "must_cover_covered": c.get("must_cover_covered"),
                "gain_cells": c.get("gain_cells"),
                "gain_cells_filled": c.get("gain_cells_filled"),
                "blind_spot_cells": b.get("cells"),
                "blind_spot_population": b.get("population"),
                "uncovered_cells": b.get(f"uncovered_cells_{y}"),
                "uncovered_population": b.get(f"uncovered_population_{y}"),
            }
            for m in COVERAGE_MEASURES:
                v = picked[m]
                if v is None and county_sum is not None and (kind, y, m) in county_sum.index:
                    v = int(county_sum[(kind, y, m)])
                city.append((CITY_TOTAL, kind, y, m, v))
    city_frame = pd.DataFrame(city, columns=frame.columns)
    out = pd.concat([frame, city_frame], ignore_index=True) if rows else city_frame
    out["value"] = pd.array(out["value"], dtype="Int64")
    return out


def compare_coverage(runs: Sequence[PlanRun]) -> pd.DataFrame:
    """Coverage side by side: ``county, kind, year, measure, <label>…[, delta]``."""
    return _side_by_side([coverage_rows(r) for r in runs], ["county", "kind", "year", "measure"],
                         [r.label for r in runs])


def summary_measures(summary: dict, years: Sequence[int] = ()) -> dict[str, Any]:
    """The scalars of summary.json worth comparing, as ``{dotted.key: value}``."""
    out: dict[str, Any] = {}
    sc = summary.get("scenario") or {}
    out["scenario.name"] = sc.get("name")
    out["scenario.path"] = sc.get("path")
    for key in ("solver", "status", "objective", "bound", "gap", "build_seconds",
                "solve_seconds", "message"):
        out[key] = summary.get(key)
    for key, value in (summary.get("model_size") or {}).items():
        out[f"model_size.{key}"] = value
    for key, value in (summary.get("objective_terms") or {}).items():
        out[f"objective_terms.{key}"] = value
    ver = summary.get("verification") or {}
    out["verification.passed"] = ver.get("passed")
    out["verification.violations"] = len(ver.get("violations") or [])
    last = str(max(years)) if years else None
    for kind, per_year in (summary.get("coverage") or {}).items():
        c = (per_year or {}).get(last) if last else None
        if c:
            for m in ("population_covered", "population_in_scope", "population_covered_share"):
                out[f"coverage.{kind}.{last}.{m}"] = c.get(m)
    for kind, b in (summary.get("blind_spots") or {}).items():
        for key, value in (b or {}).items():
            out[f"blind_spots.{kind}.{key}"] = value
    for name, section in summary.items():  # beds, nursing, …: their status and headline
        if isinstance(section, dict) and ("headline" in section or "status" in section) \
                and name not in ("scenario", "verification"):
            for key in ("status", "objective", "headline"):
                if key in section:
                    out[f"{name}.{key}"] = section[key]
    return {k: jsonable(v) for k, v in out.items()}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare_summary(runs: Sequence[PlanRun]) -> pd.DataFrame:
    """summary.json side by side: ``measure, <label>…[, delta]`` (delta only for numbers)."""
    per = [summary_measures(r.summary, r.years) for r in runs]
    keys = list(dict.fromkeys(k for p in per for k in p))
    frame = pd.DataFrame({"measure": keys})
    labels = [r.label for r in runs]
    for lab, p in zip(labels, per, strict=True):
        frame[lab] = pd.Series([p.get(k) for k in keys], dtype=object)
    if len(runs) == 2:
        a, b = per

        def diff(k):
            x, y = a.get(k), b.get(k)
            if not (_number(x) and _number(y)):
                return None
            d = y - x
            return round(d, 9) if isinstance(d, float) else d

        frame[DELTA] = pd.Series([diff(k) for k in keys], dtype=object)
    return frame


def describe_path(path: Sequence[int], years: Sequence[int], status: str = "") -> str:
    """A designation path in words: ``准入 admitted 2026; 退出 exited 2029``, or ``保留 kept``."""
    changes = []
    for prev, cur, y in zip(path, path[1:], years[1:], strict=False):
        if cur > prev:
            changes.append(f"准入 admitted {y}")
        elif cur < prev:
            changes.append(f"退出 exited {y}")
    if changes:
        return "; ".join(changes)
    if path and path[-1]:
        return "保留 kept"
    return "未准入 not admitted" if status == "applicant" else "未定点 not designated"


def compare_facilities(runs: Sequence[PlanRun]) -> pd.DataFrame:
    """Facilities whose designation differs between runs in a year they all plan, or that a
    run lacks.

    Columns: ``facility_id, name, kind, county, street, status, first_year_differs`` (the
    first such year; empty when a run lacks the facility), then per run its changes in words
    (column ``<label>``: ``准入 admitted 2026; 退出 exited 2029``, ``保留 kept``, ``无 absent``
    when the run lacks the facility), then per run the 0/1 path over its years
    (``<label>_path``, e.g. ``1110000``).
    """
    labels = [r.label for r in runs]
    common = [str(y) for y in sorted(set.intersection(*(set(r.years) for r in runs)))]
    plans = [r.plan.set_index("facility_id") for r in runs]
    ids = pd.Index(list(dict.fromkeys(fid for p in plans for fid in p.index)), dtype=object)
    present = pd.DataFrame({i: ids.isin(p.index) for i, p in enumerate(plans)}, index=ids)
    stacked = [p[common].reindex(ids) for p in plans]
    differs_year = pd.DataFrame(False, index=ids, columns=common)
    for other in stacked[1:]:
        differs_year |= (other != stacked[0]) & present.all(axis=1).to_numpy()[:, None]
    differs = ~present.all(axis=1) | differs_year.any(axis=1)
    rows = []
    for fid in ids[differs.to_numpy()]:
        src = next(p.loc[fid] for p in plans if fid in p.index)
        row: dict[str, Any] = {"facility_id": fid}
        for col in ("name", "kind", "county", "street", "status"):
            row[col] = src.get(col, "")
        hit = differs_year.loc[fid]
        row["first_year_differs"] = int(hit.idxmax()) if hit.any() else None
        paths = []
        for r, p in zip(runs, plans, strict=True):
            paths.append(None if fid not in p.index
                         else [int(p.at[fid, str(y)]) for y in r.years])
        for lab, r, path in zip(labels, runs, paths, strict=True):
            row[lab] = "无 absent" if path is None else describe_path(path, r.years,
                                                                     row["status"])
        for lab, path in zip(labels, paths, strict=True):
            row[f"{lab}_path"] = "" if path is None else "".join(map(str, path))
        rows.append(row)
    cols = [*FACILITY_FIRST, *labels, *(f"{lab}_path" for lab in labels)]
    frame = pd.DataFrame(rows, columns=cols)
    frame["first_year_differs"] = pd.array(frame["first_year_differs"], dtype="Int64")
    county_rank = {c: i for i, c in enumerate(_county_order(runs[0]))}
    frame = frame.assign(
        _c=frame["county"].map(county_rank).fillna(len(county_rank)),
        _k=frame["kind"].map({k: i for i, k in enumerate(KINDS)}).fillna(len(KINDS)),
    ).sort_values(["_c", "_k", "facility_id"], kind="stable").drop(columns=["_c", "_k"])
    return frame.reset_index(drop=True)

