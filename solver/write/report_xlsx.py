"""``OUT/report.xlsx``: the report as a workbook, one sheet per section, the maps embedded.

Sheets 摘要 (summary: solver, status, gap, coverage), 表6–表9 in the plan's merged layout
(:func:`dingdian.write.tables.write_table_sheet`), any other ``tables/*.csv``, 县区 (per-county
counts against the targets), 假设 (the model's assumptions) and 地图 (the PNG maps).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write.maps import KIND_ZH
from dingdian.write.outputs import atomic_file
from dingdian.write.report_content import (
    ReportInput,
    assumption_rows,
    blind_frame,
    cell,
    county_frame,
    coverage_frame,
    map_caption,
    summary_rows,
)


def _plan_spec(stem: str, frame: pd.DataFrame):
    from dingdian.write.tables import TableSpec

    number, _, title = stem.partition("_")
    group = title.split("各街道")[-1]
    group = group[:-1] if group.endswith("数量") else group
    return TableSpec(number=number, title=title, kind="", level="", first_column=frame.columns[0],
                     group_heading=group, total_label="", file_stem=stem)


def _is_plan_table(stem: str, frame: pd.DataFrame) -> bool:
    return stem.split("_")[0] in {"表6", "表7", "表8", "表9"} and all(
        c.endswith(("准入", "退出")) for c in frame.columns[1:])


def _sheet_frame(ws, frame: pd.DataFrame, title: str | None = None, start_row: int = 1) -> int:
    from openpyxl.styles import Font

    r = start_row
    if title:
        ws.cell(r, 1, title).font = Font(bold=True)
        r += 1
    for j, col in enumerate(frame.columns, 1):
        ws.cell(r, j, str(col)).font = Font(bold=True)
    for row in frame.itertuples(index=False):
        r += 1
        for j, v in enumerate(row, 1):
            ws.cell(r, j, cell(v))
    return r + 2


def write_xlsx(inp: ReportInput, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.styles import Font

    from dingdian.write.tables import write_table_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = "摘要"
    ws.cell(1, 1, "摘要 summary").font = Font(bold=True, size=13)
    for i, (k, v) in enumerate(summary_rows(inp.summary), 2):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    r = len(summary_rows(inp.summary)) + 3
    r = _sheet_frame(ws, coverage_frame(inp.summary), "服务圈覆盖 coverage", r)
    _sheet_frame(ws, blind_frame(inp.summary), "服务盲区 blind spots", r)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 60
    for stem, frame in inp.tables.items():
        sheet = wb.create_sheet(stem[:31])
        if _is_plan_table(stem, frame):
            typed = frame.copy()
            for c in typed.columns[1:]:
                typed[c] = pd.to_numeric(typed[c])
            write_table_sheet(sheet, _plan_spec(stem, frame), typed)
        else:
            _sheet_frame(sheet, frame, stem)
    ws = wb.create_sheet("县区")
    r = 1
    for kind in KINDS:
        r = _sheet_frame(ws, county_frame(inp.counts, inp.summary, kind),
                         f"{KIND_ZH[kind]}：各县区定点数与目标", r)
    ws.column_dimensions["A"].width = 12
    ws = wb.create_sheet("假设")
    ws.cell(1, 1, "模型假设 the model's assumptions").font = Font(bold=True, size=13)
    for i, (k, v) in enumerate(assumption_rows(inp), 2):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 110
    ws = wb.create_sheet("地图")
    row = 1
    for key, png in inp.maps.items():
        ws.cell(row, 1, map_caption(key)).font = Font(bold=True)
        img = XLImage(str(png))
        img.width, img.height = img.width * 0.75, img.height * 0.75
        ws.add_image(img, f"A{row + 1}")
        row += int(img.height / 20) + 4
    return atomic_file(path, wb.save)

