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

CSV_ENCODING = "utf-8"
TABLE_ENCODING = "utf-8-sig"
_jsonable = jsonable  # TODO(layout): callers import jsonable from dingdian.write.frames


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
        ws.append([jsonable(v) for v in row])
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
            ws.append([jsonable(v) for v in row])
    wb.save(path)


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
        write_summary(tmp / "summary.json", files.summary)
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
    files = plan_files(scenario, result, verification=verification,
                       extra_summary=extra_summary, extras=extras)
    return write_plan_files(out_dir, files)
