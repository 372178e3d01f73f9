"""Write a solved plan to an output directory, atomically.

:func:`write_outputs` builds every file in a temporary directory next to ``out_dir`` and swaps
it into place only when all files are written; on any error (or Ctrl-C) the temporary
directory is removed and an earlier ``out_dir`` is left untouched. Files::

    plan.csv       one row per facility, 0/1 designation per year, admitted/exited year
    cells.csv      planning cells with the number of designated facilities in reach per year
    counts.csv     designated/admitted/exited per county, street and city, kind and year
    decisions.csv  every admission and exit with the rule and figures behind it
    roles.csv      (allocation roles) the pharmacies holding each role, per county
    zone_proposals.csv  (special zones, 五(二)2) the zone applicants left out, ranked by the
                   blind-spot population each would serve: for expert review, not in 表6–表9
    tables/表6_….csv … tables/表9_….csv   the plan's yearly tables (utf-8-sig)
    plan.xlsx      表6–表9 with the plan's merged headings, 规划 (plan.csv), 汇总 (summary)
    summary.json   solver status, objective, coverage, targets, verification
    plan.gpkg      GeoPackage (scenario CRS): facilities, cells (hexagons), counties, streets

summary.json is written last, with the ``manifest`` of every other file as read back from the
disk (:mod:`dingdian.write.manifest`). The whole write holds the lock on ``out_dir`` and first
removes the leftovers of a killed run beside it (:mod:`dingdian.write.lock`).
:func:`atomic_entries` does the same for some entries inside a folder (``dingdian report``).

What goes into each file is computed by :mod:`dingdian.write.frames` (:class:`PlanFiles`);
this module only writes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from dingdian.write import tables as T
from dingdian.write.frames import PlanFiles, jsonable, plan_files
from dingdian.write.lock import leftover_name, output_lock, remove_leftovers
from dingdian.write.manifest import with_manifest

CSV_ENCODING = "utf-8-sig"  # a BOM: Excel on Chinese Windows opens it as UTF-8
TABLE_ENCODING = "utf-8-sig"
_jsonable = jsonable  # TODO(layout): callers import jsonable from dingdian.write.frames


#: characters the tool's own text uses that GBK lacks (Excel on Chinese Windows), and their
#: GBK-safe spelling; other text (a facility's name) is written as it is
GBK_SAFE = {"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u230a": "向下取整(",
            "\u230b": ")", "\u2308": "向上取整(", "\u2309": ")", "\u00b2": "2",
            "\u00b3": "3", "\u21d4": "<=>", "\u2713": "是", "\u2717": "否", "\u00a0": " "}
_GBK_TABLE = str.maketrans(GBK_SAFE)


def gbk_safe_text(text: str) -> str:
    """``text`` with the symbols of :data:`GBK_SAFE` spelled in GBK."""
    return text.translate(_GBK_TABLE)


def gbk_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (headings and text cells) with :func:`gbk_safe_text` applied where needed."""
    def needs(values) -> bool:
        return any(isinstance(v, str) and not v.isascii() and v != gbk_safe_text(v)
                   for v in values)

    out = frame
    if needs(map(str, frame.columns)):
        out = out.rename(columns=lambda c: gbk_safe_text(c) if isinstance(c, str) else c)
    for col in out.columns:
        if out[col].dtype == object and needs(out[col].unique()):
            out = out.copy() if out is frame else out
            out[col] = out[col].map(lambda v: gbk_safe_text(v) if isinstance(v, str) else v)
    return out


def write_csv(path: Path, frame: pd.DataFrame, encoding: str = CSV_ENCODING) -> None:
    """One CSV file (no index), UTF-8 with a BOM and the tool's symbols GBK-safe, so that
    Excel on Chinese Windows opens it as it is and a GBK re-save loses nothing."""
    gbk_safe(frame).to_csv(path, index=False, encoding=encoding)


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
    (the beds and nursing tables); every sheet print-ready (:mod:`dingdian.write.xlsx_style`)."""
    from openpyxl import Workbook

    from dingdian.models.pulp_rows import gc_paused  # a workbook's cells: no cycles either
    from dingdian.write import xlsx_labels as L
    from dingdian.write import xlsx_style as X

    with gc_paused():
        wb = Workbook()
        wb.remove(wb.active)
        for spec, frame in tables:
            T.write_table_sheet(wb.create_sheet(X.sheet_name(spec.number, wb)), spec, frame)
        ws = wb.create_sheet("规划")
        head, _ = X.write_frame(ws, plan, title="规划：各机构逐年定点（1 定点，0 非定点）",
                                headings=L.plan_heading, formats=COORDINATES,
                                text_columns=TEXT_COLUMNS, wrap=False)
        X.finish(ws, header=(1, head), freeze=f"C{head + 1}", max_width=40)
        _summary_sheet(wb.create_sheet("汇总"), summary)
        for name, frame in (sheets or {}).items():
            ws = wb.create_sheet(X.sheet_name(name, wb))
            head, _ = X.write_frame(ws, frame, title=name.replace("_", " "), headings=L.heading,
                                    formats=COORDINATES, text_columns=TEXT_COLUMNS)
            X.finish(ws, header=(1, head), freeze=f"A{head + 1}")
        wb.save(path)


#: columns printed as text even when they look like numbers (codes), and coordinates
TEXT_COLUMNS = ("facility_id", "name", "county", "street", "cell_id", "moves_from",
                "机构编码 facility_id", "机构名称 name")
COORDINATES = {"lon": "0.000000", "lat": "0.000000"}


def _summary_sheet(ws, summary: dict) -> None:
    """汇总: each summary.json scalar as ``项目 | 值 | 键名``, then the targets table."""
    from dingdian.write import xlsx_labels as L
    from dingdian.write import xlsx_style as X

    X.title_row(ws, "汇总：求解结果与规划指标", 3)
    X.header_row(ws, 2, ["项目", "值", "键名 key"])
    r = 2
    for key, value in _summary_rows(summary):
        r += 1
        last = key.rsplit(".", 1)[-1]
        fmt = ("0.00%" if last == "gap" else X.SHARE if X.is_share_column(last)
               else X.YEAR if X.is_year_column(last) else None)
        X.put(ws, r, 1, L.summary_label(key), coerce=False)
        X.put(ws, r, 2, value, fmt)
        X.put(ws, r, 3, key, coerce=False)
    X.border(ws, 3, r, 1, 3)
    targets = summary.get("targets") or []
    if targets:
        cols = list(dict.fromkeys(k for row in targets for k in row))
        X.write_frame(ws, pd.DataFrame(targets, columns=cols), row=r + 2, title="各县区目标",
                      headings=L.heading)
    X.finish(ws, header=(1, 2), freeze="B3", widths={1: 44, 2: 40, 3: 40})


def write_extras(tmp: Path, extras) -> None:
    """Files of the planners beside the site model (beds, nursing): ``tables/`` with a BOM."""
    for extra in extras:
        for rel, frame in extra.files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(path, frame, TABLE_ENCODING if rel.startswith("tables/") else CSV_ENCODING)


def write_plan_files(out_dir, files: PlanFiles) -> Path:
    """Write ``files`` to ``out_dir`` atomically (see the module docstring); return its path.

    Raises ``OSError`` if the directory cannot be written; ``out_dir`` is then unchanged.
    """
    with atomic_directory(out_dir) as tmp:
        write_csv(tmp / "plan.csv", files.plan)
        write_csv(tmp / "cells.csv", files.cells)
        write_csv(tmp / "counts.csv", files.counts)
        write_csv(tmp / "decisions.csv", files.decisions)
        if files.roles is not None:
            write_csv(tmp / "roles.csv", files.roles)
        if files.gate is not None:
            write_csv(tmp / "gate.csv", files.gate)
        if files.proposals is not None:
            write_csv(tmp / "zone_proposals.csv", files.proposals)
        write_tables(tmp / "tables", list(files.tables))
        write_extras(tmp, files.extras)
        write_xlsx(tmp / "plan.xlsx", files.tables, files.plan, files.summary, files.sheets)
        files.gpkg.write(tmp / "plan.gpkg")
        write_summary(tmp / "summary.json", with_manifest(files.summary, tmp))
    return Path(out_dir).absolute()


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
    old directory is replaced whole. Holds the lock on ``out_dir`` throughout (raises
    :class:`~dingdian.write.lock.OutputBusy` when another run holds it) and first removes the
    ``.<name>.tmp-*``/``.old-*`` siblings a killed run left.
    """
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory")
    with output_lock(out_dir):
        remove_leftovers(out_dir.parent, out_dir.name)
        tmp = Path(tempfile.mkdtemp(prefix=leftover_name(out_dir.name, "tmp"),
                                    dir=out_dir.parent))
        old: Path | None = None
        try:
            os.chmod(tmp, 0o755)
            yield tmp
            if out_dir.exists():
                old = out_dir.parent / (leftover_name(out_dir.name, "old") + uuid.uuid4().hex[:8])
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


@contextmanager
def atomic_entries(folder, names, label: str) -> Iterator[Path]:
    """Build the entries ``names`` (files or folders) of the existing ``folder`` in a hidden
    temporary folder inside it, ``.<label>.tmp-<pid>-…``, and move them in together at the end.

    Yields the temporary folder. On any error or Ctrl-C inside the block it is removed and the
    earlier entries are left untouched; on success each entry built replaces the earlier one
    whole (an entry not built is left as it is). Holds the lock on ``folder`` throughout and
    first removes the temporary folders of a killed run.
    """
    folder = Path(folder)
    with output_lock(folder):
        remove_leftovers(folder, label)
        tmp = Path(tempfile.mkdtemp(prefix=leftover_name(label, "tmp"), dir=folder))
        old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
        try:
            os.chmod(tmp, 0o755)
            yield tmp
            old.mkdir()
            moved: list[tuple[Path, Path]] = []
            try:
                for name in names:
                    if not os.path.lexists(tmp / name):
                        continue
                    if os.path.lexists(folder / name):
                        os.rename(folder / name, old / name)
                        moved.append((folder / name, old / name))
                    os.rename(tmp / name, folder / name)
                    moved.append((tmp / name, folder / name))
            except BaseException:
                for src, dst in reversed(moved):
                    os.rename(dst, src)
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
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
    files = plan_files(scenario, result, verification=verification,
                       extra_summary=extra_summary, extras=extras)
    return write_plan_files(out_dir, files)
