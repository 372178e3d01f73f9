"""Compare plan folders written by ``dingdian solve`` side by side (pure functions).

:func:`load_plan` reads one output folder (plan.csv, counts.csv, summary.json, and cells.csv
when present) into a frozen :class:`PlanRun`; a folder that is not a plan raises
:class:`NotAPlan`, whose ``str()`` is one line. :func:`compare_plans` turns two or more runs
into a :class:`Comparison` of four long frames, each with one column per run (named by the
run's label) and, for exactly two runs, a ``delta`` column = second − first:

    counts      county, street, kind, year, measure (designated/admitted/exited)  ← counts.csv
    coverage    county, kind, year, measure (population covered, blind spots …)   ← cells.csv;
                the city rows (全市) come from summary.json coverage/blind_spots
    summary     measure (status, objective, gap, objective terms …)               ← summary.json
    facilities  one row per facility whose designation path differs: per run the changes
                (``准入 admitted 2026; 退出 exited 2029``) and the 0/1 path   ← plan.csv

:func:`write_comparison` writes ``compare_counts.csv``, ``compare_coverage.csv``,
``compare_summary.csv``, ``compare_facilities.csv`` and ``compare.xlsx`` atomically: built in a
temporary folder next to the target and swapped in, as :func:`dingdian.write.outputs.write_outputs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write.outputs import CSV_ENCODING, _jsonable, atomic_directory, write_csv
from dingdian.write.tables import CITY_TOTAL, COUNT_COLUMNS

REQUIRED = ("plan.csv", "summary.json", "counts.csv")
COUNT_MEASURES = ("designated", "admitted", "exited")
#: per county, kind and year, from cells.csv (city rows: summary.json)
COVERAGE_MEASURES = (
    "population_in_scope", "population_covered", "must_cover_cells", "must_cover_covered",
    "gain_cells", "gain_cells_filled", "blind_spot_cells", "blind_spot_population",
    "uncovered_cells", "uncovered_population",
)
DELTA = "delta"
FILES = {"counts": "compare_counts.csv", "coverage": "compare_coverage.csv",
         "summary": "compare_summary.csv", "facilities": "compare_facilities.csv"}
XLSX = "compare.xlsx"
FACILITY_FIRST = ["facility_id", "name", "kind", "county", "street", "status",
                  "first_year_differs"]
#: labels may not shadow a key column of the frames
RESERVED = {"county", "street", "kind", "year", "measure", DELTA, *FACILITY_FIRST}
_YEAR = re.compile(r"\d{4}")


class NotAPlan(ValueError):
    """A folder is not a readable ``dingdian solve`` output; ``str()`` is one line."""

    def __init__(self, folder, reason: str) -> None:
        self.folder = str(folder)
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.folder}: not a dingdian plan ({self.reason})")


@dataclass(frozen=True, eq=False)
class PlanRun:
    """One plan folder: its label, path and the frames of its output files."""

    label: str
    path: Path
    plan: pd.DataFrame  # plan.csv (facility_id as str, street '' when empty)
    counts: pd.DataFrame  # counts.csv (street '' on county and city rows)
    summary: dict  # summary.json
    cells: pd.DataFrame | None = None  # cells.csv, None when the folder has none

    @property
    def years(self) -> list[int]:
        """The plan's years, base year first (plan.csv's year columns)."""
        return [int(c) for c in self.plan.columns if _YEAR.fullmatch(str(c))]


@dataclass(frozen=True, eq=False)
class Comparison:
    """The four comparison frames and the labels of their run columns, in order."""

    labels: tuple[str, ...]
    counts: pd.DataFrame
    coverage: pd.DataFrame
    summary: pd.DataFrame
    facilities: pd.DataFrame
    paths: tuple[Path, ...] = field(default=())

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"counts": self.counts, "coverage": self.coverage, "summary": self.summary,
                "facilities": self.facilities}


# --------------------------------------------------------------------------------- loading


def _read_csv(folder: Path, name: str, shown: str, text_cols: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(folder / name, dtype={c: str for c in text_cols},
                            encoding=CSV_ENCODING)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise NotAPlan(shown, f"unreadable {name}: {exc}") from exc
    for col in text_cols:
        if col in frame:
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def _need_columns(frame: pd.DataFrame, cols: Sequence[str], name: str, shown: str) -> None:
    missing = [c for c in cols if c not in frame]
    if missing:
        raise NotAPlan(shown, f"{name} lacks column {', '.join(map(repr, missing))}")


def _need_01(frame: pd.DataFrame, cols: Sequence[str], name: str, shown: str) -> None:
    for col in cols:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any() or not values.isin([0, 1]).all():
            raise NotAPlan(shown, f"{name} column '{col}' is not 0/1")
        frame[col] = values.astype(int)


def load_plan(folder, label: str | None = None) -> PlanRun:
    """Read a ``dingdian solve`` output folder; raise :class:`NotAPlan` if it is not one.

    plan.csv, summary.json and counts.csv are required; cells.csv is read when present.
    ``label`` defaults to the folder's name.
    """
    shown = str(folder)
    path = Path(folder)
    if not path.is_dir():
        raise NotAPlan(shown, "no such folder" if not path.exists() else "not a folder")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise NotAPlan(shown, f"missing {', '.join(missing)}")
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotAPlan(shown, f"unreadable summary.json: {exc}") from exc
    if not isinstance(summary, dict):
        raise NotAPlan(shown, "unreadable summary.json: not a JSON object")

    plan = _read_csv(path, "plan.csv", shown,
                     ["facility_id", "name", "kind", "category", "county", "street", "status"])
    _need_columns(plan, ["facility_id", "kind", "county"], "plan.csv", shown)
    years = [c for c in plan.columns if _YEAR.fullmatch(str(c))]
    if not years:
        raise NotAPlan(shown, "plan.csv has no year columns")
    _need_01(plan, years, "plan.csv", shown)
    if plan["facility_id"].duplicated().any():
        dup = plan.loc[plan["facility_id"].duplicated(), "facility_id"].iloc[0]
        raise NotAPlan(shown, f"plan.csv lists facility {dup} twice")

    counts = _read_csv(path, "counts.csv", shown, ["county", "street", "kind"])
    _need_columns(counts, COUNT_COLUMNS, "counts.csv", shown)
    for col in ("year", *COUNT_MEASURES):
        values = pd.to_numeric(counts[col], errors="coerce")
        if values.isna().any():
            raise NotAPlan(shown, f"counts.csv column '{col}' is not a whole number")
        counts[col] = values.astype(int)

    cells = None
    if (path / "cells.csv").is_file():
        cells = _read_csv(path, "cells.csv", shown, ["cell_id", "county", "street", "zone"])
        _need_columns(cells, ["cell_id", "county", "population"], "cells.csv", shown)
    return PlanRun(label=label or path.absolute().name, path=path, plan=plan, counts=counts,
                   summary=summary, cells=cells)


def default_labels(folders: Sequence) -> list[str]:
    """Folder names; where two folders share a name, as many parent folders as tell them
    apart (``a/out``, ``b/out``); the same folder twice gets ``#2``."""
    parts = [Path(f).absolute().parts[1:] for f in folders]  # without the root
    distinct = list(dict.fromkeys(parts))
    labels = []
    for p in parts:
        depth = 1
        while depth < len(p) and any(q != p and q[-depth:] == p[-depth:] for q in distinct):
            depth += 1
        labels.append("/".join(p[-depth:]))
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def check_labels(labels: Sequence[str]) -> None:
    """Raise ``ValueError`` for an empty, repeated or reserved label."""
    for lab in labels:
        if not str(lab).strip():
            raise ValueError("a label is empty")
        if lab in RESERVED or lab.endswith("_path"):
            raise ValueError(f"label {lab!r} clashes with a column name")
    dup = {lab for lab in labels if list(labels).count(lab) > 1}
    if dup:
        raise ValueError(f"label {sorted(dup)[0]!r} is given twice")


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
    return {k: _jsonable(v) for k, v in out.items()}


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


def compare_plans(runs: Sequence[PlanRun]) -> Comparison:
    """Compare two or more loaded runs (labels must be unique)."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two plans")
    labels = tuple(r.label for r in runs)
    check_labels(labels)
    return Comparison(labels=labels, counts=compare_counts(runs),
                      coverage=compare_coverage(runs), summary=compare_summary(runs),
                      facilities=compare_facilities(runs), paths=tuple(r.path for r in runs))


# --------------------------------------------------------------------------------- writing


def _write_xlsx(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in frames.items():
        ws = wb.create_sheet(Path(FILES[name]).stem[:31])
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([_jsonable(v) for v in row])
        ws.freeze_panes = "A2"
    wb.save(path)


def write_comparison(out_dir, comparison: Comparison) -> Path:
    """Write the four CSV files and compare.xlsx to ``out_dir`` atomically; return its path.

    Everything is built in a temporary folder next to ``out_dir`` and swapped in at the end; on
    any error an earlier ``out_dir`` is left untouched (``OSError`` is raised).
    """
    frames = comparison.frames()
    with atomic_directory(out_dir) as tmp:
        for name, frame in frames.items():
            write_csv(tmp / FILES[name], frame)
        _write_xlsx(tmp / XLSX, frames)
    return Path(out_dir).absolute()
