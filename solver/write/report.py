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

Every file is written to a temporary file in its folder and swapped in with ``os.replace``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from dingdian.write.map_html import atomic_write_text, map_fragment, map_html
from dingdian.write.maps import load_map_data, write_pngs
from dingdian.write.report_content import ReportInput
from dingdian.write.report_html import render_html
from dingdian.write.report_xlsx import write_xlsx

REQUIRED = ("plan.csv", "cells.csv", "counts.csv", "summary.json")


class ReportError(Exception):
    """The folder is not a plan, or the scenario cannot be found."""


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
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    counts = pd.read_csv(out / "counts.csv", dtype={"street": str}, keep_default_na=False)
    for c in ("year", "designated", "admitted", "exited"):
        counts[c] = pd.to_numeric(counts[c])
    tables = {}
    tdir = out / "tables"
    if tdir.is_dir():
        for f in sorted(tdir.glob("*.csv"), key=_table_order):
            tables[f.stem] = pd.read_csv(f, encoding="utf-8-sig", dtype=str,
                                         keep_default_na=False)
    path = find_scenario(out, summary, scenario)
    columns = tuple(pd.read_csv(out / "plan.csv", nrows=0).columns)
    return ReportInput(out=out, summary=summary, counts=counts, tables=tables, scenario=path,
                       config=_config(path), plan_columns=columns)


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
                 all_years: bool = False) -> dict[str, Path]:
    """Maps, ``report.xlsx`` and ``report.html`` for the plan folder ``out``.

    ``all_years`` draws a coverage PNG for every year (default: first and last year).
    Returns the written paths by name.
    """
    inp = read_output(out, scenario)
    title = (inp.summary.get("scenario") or {}).get("title") or ""
    data = load_map_data(inp.out, inp.scenario, title)
    maps_dir = inp.out / "maps"
    inp.maps = write_pngs(data, maps_dir, data.years if all_years else None)
    written = dict(inp.maps)
    written["map_html"] = map_html(data, maps_dir / "map.html")
    inp.map_fragment = map_fragment(data)
    # report.html embeds the first and last year only, whatever was drawn
    shown = {k: v for k, v in inp.maps.items()
             if k.startswith("density") or k.endswith((f"_{data.first}", f"_{data.last}"))}
    inp.maps = shown
    written["report_xlsx"] = write_xlsx(inp, inp.out / "report.xlsx")
    buf = io.StringIO(render_html(inp))
    written["report_html"] = atomic_write_text(inp.out / "report.html", buf.getvalue())
    return written
