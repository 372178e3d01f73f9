"""``OUT/report.xlsx`` and ``OUT/report.html``: a written plan as a report a planner can paste.

Reads only a plan folder's own files (``plan.csv``, ``cells.csv``, ``counts.csv``,
``summary.json``, ``tables/*.csv``) plus the scenario, for the county outlines; the scenario is
``summary.json["scenario"]["path"]`` unless one is given. Writes the maps of
:mod:`dingdian.write.maps` and :mod:`dingdian.write.map_html` into ``OUT/maps/``
(``density_<kind>.png``, ``coverage_<kind>_<year>.png``, ``map.html``), then

* ``report.xlsx`` — sheets 摘要 (summary: solver, status, gap, coverage), 表6–表9 in the plan's
  merged layout, any other ``tables/*.csv``, 县区 (per-county counts against the targets),
  假设 (the model's assumptions) and 地图 (the PNG maps, embedded);
* ``report.html`` — the same content in one self-contained page: CSS inline, images as base64
  ``data:`` URIs, the interactive map inline; no external resource of any kind.

This module reads the folder and writes the files; the content is
:mod:`dingdian.write.report_content`, the writers :mod:`dingdian.write.report_xlsx` and
:mod:`dingdian.write.report_html`.

The report is written like a plan folder: holding the lock on ``OUT``
(:mod:`dingdian.write.lock`), report.xlsx, report.html and maps/ are built in a hidden temporary
folder ``OUT/.report.tmp-<pid>-…`` and moved in together at the end
(:func:`dingdian.write.outputs.atomic_entries`); on any error (a full disk) an earlier report is
left untouched and nothing half-written stays. The plan's files are checked against
summary.json's manifest first (:mod:`dingdian.write.manifest`); the report's own files are not
in the manifest and do not change it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from dingdian.write.lock import output_lock
from dingdian.write.manifest import ManifestError
from dingdian.write.manifest import check as check_manifest
from dingdian.write.map_html import atomic_write_text, map_fragment, map_html
from dingdian.write.maps import load_map_data, write_pngs
from dingdian.write.outputs import atomic_entries
from dingdian.write.report_content import ReportInput
from dingdian.write.report_html import render_html
from dingdian.write.report_xlsx import write_xlsx

REQUIRED = ("plan.csv", "cells.csv", "counts.csv", "summary.json")
#: what the report writes into OUT, replaced together
ENTRIES = ("maps", "report.xlsx", "report.html")


class ReportError(Exception):
    """The folder is not a plan (or its files differ from its manifest), or the scenario cannot
    be found; ``str()`` is one line."""


# --------------------------------------------------------------------------- reading
def find_scenario(out: Path, summary: dict, scenario: str | Path | None = None) -> Path:
    """``scenario`` if given, else summary.json's scenario path (absolute, or relative to the
    current directory, the plan folder or one of its parents)."""
    if scenario is not None:
        p = Path(scenario)
        if not p.is_file():
            raise ReportError(f"scenario not found: {p}")
        return p
    raw = (summary.get("scenario") or {}).get("path")
    if not raw:
        raise ReportError(f"{out / 'summary.json'} names no scenario path; pass --scenario")
    p = Path(raw)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, *(d / p for d in out.resolve().parents)]
    for c in candidates:
        if c.is_file():
            return c
    raise ReportError(f"scenario {raw} (from summary.json) not found; pass --scenario")


def read_output(out: str | Path, scenario: str | Path | None = None) -> ReportInput:
    out = Path(out)
    missing = [f for f in REQUIRED if not (out / f).is_file()]
    if missing:
        raise ReportError(f"{out} is not a plan folder: missing {', '.join(missing)}")
    summary = _summary(out / "summary.json")
    try:
        check_manifest(out, summary)
    except ManifestError as exc:
        raise ReportError(str(exc)) from None
    name = out / "counts.csv"
    try:
        counts = pd.read_csv(name, dtype={"street": str}, keep_default_na=False)
        for c in ("year", "designated", "admitted", "exited"):
            counts[c] = pd.to_numeric(counts[c])
        tables = {}
        tdir = out / "tables"
        if tdir.is_dir():
            for name in sorted(tdir.glob("*.csv"), key=_table_order):
                tables[name.stem] = pd.read_csv(name, encoding="utf-8-sig", dtype=str,
                                                keep_default_na=False)
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ReportError(f"{name}: not readable as dingdian wrote it "
                          f"({' '.join(str(exc).split())})") from None
    path = find_scenario(out, summary, scenario)
    columns = tuple(pd.read_csv(out / "plan.csv", nrows=0).columns)
    return ReportInput(out=out, summary=summary, counts=counts, tables=tables, scenario=path,
                       config=_config(path), plan_columns=columns)


def _summary(path: Path) -> dict:
    """summary.json as a dict; a file that is not a JSON object is a :class:`ReportError`."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno}); solve again to rewrite it") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ReportError(f"{path}: not readable ({exc})") from None
    if not isinstance(summary, dict):
        raise ReportError(f"{path}: not a JSON object")
    return summary


def _config(path: Path):
    """The scenario's validated settings, or None when the file no longer validates (the
    report then says its rules could not be read)."""
    from dingdian.errors import ScenarioError
    from dingdian.scenario.variants import read_config

    try:
        return read_config(path)
    except (ScenarioError, OSError, ValueError):
        return None


def _table_order(f: Path):
    head = f.stem.split("_")[0]
    num = head[1:] if head.startswith("表") else ""
    return (0, int(num), f.stem) if num.isdigit() else (1, 0, f.stem)


def write_report(out: str | Path, scenario: str | Path | None = None,
                 all_years: bool = False, allow_outside: bool = False) -> dict[str, Path]:
    """Maps, ``report.xlsx`` and ``report.html`` for the plan folder ``out``, atomically
    (module docstring).

    ``all_years`` draws a coverage PNG for every year (default: first and last year);
    ``allow_outside`` lets the scenario's outlines lie outside its folder
    (:mod:`dingdian.scenario.paths`).
    Returns the written paths by name. Raises :class:`ReportError` for a folder that is not a
    plan, :class:`~dingdian.write.lock.OutputBusy` when another run is writing it and
    ``OSError`` when the report cannot be written (``out`` is then unchanged).
    """
    out = Path(out)
    with output_lock(out):
        inp = read_output(out, scenario)
        with atomic_entries(out, ENTRIES, "report") as tmp:
            written = _write(inp, tmp, all_years, allow_outside)
    return {key: out / path.relative_to(tmp) for key, path in written.items()}


def _write(inp: ReportInput, folder: Path, all_years: bool,
           allow_outside: bool = False) -> dict[str, Path]:
    """The maps and both reports into ``folder``; the written paths by name."""
    title = (inp.summary.get("scenario") or {}).get("title") or ""
    data = load_map_data(inp.out, inp.scenario, title, allow_outside)
    maps_dir = folder / "maps"
    maps_dir.mkdir()
    inp.maps = write_pngs(data, maps_dir, data.years if all_years else None)
    written = dict(inp.maps)
    written["map_html"] = map_html(data, maps_dir / "map.html")
    inp.map_fragment = map_fragment(data)
    # report.html embeds the first and last year only, whatever was drawn
    shown = {k: v for k, v in inp.maps.items()
             if k.startswith("density") or k.endswith((f"_{data.first}", f"_{data.last}"))}
    inp.maps = shown
    written["report_xlsx"] = write_xlsx(inp, folder / "report.xlsx")
    buf = io.StringIO(render_html(inp))
    written["report_html"] = atomic_write_text(folder / "report.html", buf.getvalue())
    return written
