"""Compare plan folders written by ``dingdian solve`` side by side: the comparison and its files.

Pure functions. :func:`~dingdian.write.compare_runs.load_plan` reads one output folder
(plan.csv, counts.csv, summary.json, and cells.csv when present) into a frozen
:class:`~dingdian.write.compare_runs.PlanRun`; a folder that is not a plan raises
:class:`~dingdian.write.compare_runs.NotAPlan`, whose ``str()`` is one line. :func:`compare_plans`
turns two or more runs of one city (a run with no county in common with the first is refused:
:func:`same_city`) into a :class:`Comparison` of four long frames
(:mod:`dingdian.write.compare_frames`), each with one column per run (named by the run's label)
and, for exactly two runs, a ``delta`` column = second − first:

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dingdian.write.compare_frames import (
    compare_counts,
    compare_coverage,
    compare_facilities,
    compare_summary,
)
from dingdian.write.compare_runs import COUNT_MEASURES, DELTA, NotAPlan, PlanRun, check_labels
from dingdian.write.outputs import atomic_directory, write_csv
from dingdian.write.tables import CITY_TOTAL

FILES = {"counts": "compare_counts.csv", "coverage": "compare_coverage.csv",
         "summary": "compare_summary.csv", "facilities": "compare_facilities.csv"}
XLSX = "compare.xlsx"


@dataclass(frozen=True, eq=False)
class Comparison:
    """The four comparison frames and the labels of their run columns, in order."""

    labels: tuple[str, ...]
    counts: pd.DataFrame
    coverage: pd.DataFrame
    summary: pd.DataFrame
    facilities: pd.DataFrame
    paths: tuple[Path, ...] = field(default=())
    #: the first run's years (base year first)
    years: tuple[int, ...] = ()
    #: the count measures (designated, admitted, exited) and the name of the Δ column
    measures = COUNT_MEASURES
    delta = DELTA
    #: the files :meth:`write` writes
    files = (*FILES.values(), XLSX)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"counts": self.counts, "coverage": self.coverage, "summary": self.summary,
                "facilities": self.facilities}

    def write(self, out_dir) -> Path:
        """:func:`write_comparison`: the CSV files and compare.xlsx, atomically."""
        return write_comparison(out_dir, self)


def compare_plans(runs: Sequence[PlanRun]) -> Comparison:
    """Compare two or more loaded runs (labels must be unique) of one city: a run that shares
    no county with the first is refused (:class:`NotAPlan`, one line)."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two plans")
    labels = tuple(r.label for r in runs)
    check_labels(labels)
    same_city(runs)
    return Comparison(labels=labels, counts=compare_counts(runs),
                      coverage=compare_coverage(runs), summary=compare_summary(runs),
                      facilities=compare_facilities(runs), paths=tuple(r.path for r in runs),
                      years=tuple(runs[0].years))


def same_city(runs: Sequence[PlanRun]) -> None:
    """Raise :class:`NotAPlan` when a run has no county in common with the first: plans of
    different cities, whose every row and facility would differ."""
    def counties(run: PlanRun) -> set[str]:
        return set(run.counts["county"]) - {CITY_TOTAL}

    def name(run: PlanRun) -> str:
        return (run.summary.get("scenario") or {}).get("name") or run.label

    first = runs[0]
    for run in runs[1:]:
        if not counties(first) & counties(run):
            raise NotAPlan(run.path, "another city", message=(
                f"{first.path} ({name(first)}) and {run.path} ({name(run)}) have no county in "
                "common: plans of different cities are not compared"))


# --------------------------------------------------------------------------------- writing


def _write_xlsx(path: Path, frames: dict[str, pd.DataFrame], labels: Sequence[str] = ()) -> None:
    """compare.xlsx: one print-ready sheet per frame with Chinese headings and measures (the
    CSV files keep their column names); the summary sheet keeps each key in a last column."""
    from openpyxl import Workbook

    from dingdian.write import xlsx_labels as L
    from dingdian.write import xlsx_style as X

    def share_row(rec) -> str | None:
        key = str(getattr(rec, "measure", "") or "")
        return X.SHARE if key.endswith("share") else None

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in frames.items():
        ws = wb.create_sheet(X.sheet_name(L.COMPARE_SHEETS.get(name, name), wb))
        if name == "summary" and "measure" in frame.columns:
            frame = frame.assign(**{"键名 key": frame["measure"]})
        run_cols = {c for c in frame.columns if c in labels or c == DELTA}
        head, _ = X.write_frame(
            ws, frame, title=f"方案对比：{L.COMPARE_SHEETS.get(name, name)}（{' / '.join(labels)}）",
            headings=lambda c: L.compare_heading(c, labels),
            text_columns=[c for c in frame.columns if c not in run_cols],
            values=lambda c, v: L.measure_label(v) if c == "measure" and isinstance(v, str) else v,
            row_format=share_row if name in ("summary", "coverage") else None)
        X.finish(ws, header=(1, head), freeze=f"A{head + 1}")
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
        _write_xlsx(tmp / XLSX, frames, comparison.labels)
    return Path(out_dir).absolute()
