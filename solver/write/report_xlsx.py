"""``OUT/report.xlsx``: the report as a workbook, one sheet per section, the maps embedded.

Sheets 规划要点 (the director's part: what changes, where, by when, what needs approval;
:mod:`dingdian.write.report_brief`), 表6–表9 in the plan's merged layout
(:func:`dingdian.write.tables.write_table_sheet`), any other ``tables/*.csv``, 县区 (per-county
counts against the targets or caps), 规划依据与规则 (the rules read from the scenario, and its
overrides), 技术说明 (solver, gap, objective terms, coverage, blind spots) and 地图. Every
sheet is print-ready (:mod:`dingdian.write.xlsx_style`: A4 landscape, one page wide, headings
repeated, page numbers); numbers are stored as numbers with their formats; sheet names have no
underscores (``表6 无住院服务…``, at most 31 characters).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write import report_brief as B
from dingdian.write.outputs import atomic_file
from dingdian.write.report_content import (
    ReportInput,
    assumption_rows,
    blind_frame,
    county_frame,
    coverage_frame,
    map_caption,
)
from dingdian.write.report_rules import override_rows


def _plan_spec(stem: str, frame: pd.DataFrame):
    from dingdian.write.tables import TableSpec

    number, _, title = stem.partition("_")
    group = title.split("各街道")[-1]
    group = group[:-1] if group.endswith("数量") else group
    return TableSpec(number=number, title=title, kind="", level="", first_column=frame.columns[0],
                     group_heading=group, total_label="", file_stem=stem)


def _is_plan_table(stem: str, frame: pd.DataFrame) -> bool:
    return len(frame.columns) > 1 and all(
        str(c).endswith(("准入", "退出")) for c in frame.columns[1:])


def _block(ws, frame: pd.DataFrame, title: str | None, row: int) -> tuple[int, int]:
    """A titled table at ``row`` (English headings in Chinese); return (heading row, last row)."""
    from dingdian.write import xlsx_labels as L
    from dingdian.write import xlsx_style as X

    return X.write_frame(ws, frame, row=row, title=title, headings=L.heading)


def _pairs(ws, title: str, headings: list[str], rows, *, wrap_width: int | None = None) -> int:
    """``title``, then ``(label, value)`` rows under two headings; return the last row."""
    from dingdian.write import xlsx_style as X

    X.title_row(ws, title, 2)
    X.header_row(ws, 2, headings)
    r = 2
    for label, value in rows:
        r += 1
        X.put(ws, r, 1, label, coerce=False)
        cell = X.put(ws, r, 2, value)
        if wrap_width:
            cell.alignment = X.WRAP
    X.border(ws, 3, r, 1, 2)
    return r


def _brief(ws, inp: ReportInput) -> None:
    """规划要点: the director's part of the report (dingdian.write.report_brief)."""
    from dingdian.write import xlsx_style as X

    s, word = inp.summary, inp.word
    numbers = [stem.partition("_")[0] for stem, f in inp.tables.items() if _is_plan_table(stem, f)]
    sections = [("总体变化", B.headline(inp.counts)), ("主要变动县区", B.where_sentences(inp.counts)),
                ("服务覆盖", B.coverage_sentences(s)),
                ("需审定事项", [f"{i}. {a}" for i, a in enumerate(B.approvals(s, word, numbers), 1)])]
    title = (s.get("scenario") or {}).get("title") or "规划方案"
    X.title_row(ws, f"{title}：规划要点", 8)
    r = 1
    for head, lines in sections:
        if not lines:
            continue
        r += 2
        X.put(ws, r, 1, head, coerce=False).font = X.HEADER_FONT
        for line in lines:
            r += 1
            cell = X.put(ws, r, 1, line, coerce=False)
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
            cell.alignment = X.WRAP
            ws.row_dimensions[r].height = 15 * (1 + len(line) // 70)
    _, r = _block(ws, B.changes_by_year(inp.counts), "分年度安排（家）", r + 2)
    for kind in KINDS:
        if (inp.counts["kind"] == kind).any():
            _, r = _block(ws, B.changes_by_county(inp.counts, s, kind, word),
                          f"分县区安排：{B.KIND_SHORT[kind]}（家）", r + 2)
    X.finish(ws, widths={c: 13 for c in range(1, 12)})


def write_xlsx(inp: ReportInput, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage

    from dingdian.write import xlsx_style as X
    from dingdian.write.tables import write_table_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = "规划要点"
    _brief(ws, inp)
    for stem, frame in inp.tables.items():
        sheet = wb.create_sheet(X.sheet_name(stem, wb))
        if _is_plan_table(stem, frame):
            typed = frame.copy()
            for c in typed.columns[1:]:
                typed[c] = pd.to_numeric(typed[c])
            write_table_sheet(sheet, _plan_spec(stem, frame), typed)
        else:
            head, _ = _block(sheet, frame, stem.replace("_", " "), 1)
            X.finish(sheet, header=(1, head), freeze=f"B{head + 1}")
    ws = wb.create_sheet("县区")
    r = 1
    for kind in KINDS:
        _, r = _block(ws, county_frame(inp.counts, inp.summary, kind, inp.word),
                      f"{inp.kind_zh[kind]}：各县区逐年年末定点数与规划{inp.word}", r)
        r += 2
    X.finish(ws)
    ws = wb.create_sheet("规划依据与规则")
    r = _pairs(ws, "规划依据与规则（由本方案的情景文件读出）", ["规则", "说明"],
               assumption_rows(inp), wrap_width=90)
    overrides = override_rows(inp.config) if inp.config is not None else []
    if overrides:
        X.title_row(ws, "情景调整", 2, row=r + 2)
        for i, (k, v) in enumerate(overrides, r + 3):
            X.put(ws, i, 1, k, coerce=False)
            X.put(ws, i, 2, v, coerce=False)
    X.finish(ws, header=(1, 2), freeze="A3", widths={1: 32, 2: 90})
    ws = wb.create_sheet("技术说明")
    r = _pairs(ws, "附录　技术说明", ["项目", "说明"], B.appendix_rows(inp.summary)
               + B.study_rows(inp.summary), wrap_width=90)
    _, r = _block(ws, coverage_frame(inp.summary, inp.kind_zh), "服务圈覆盖（逐年）", r + 2)
    _block(ws, blind_frame(inp.summary, inp.kind_zh), "服务盲区", r + 2)
    X.finish(ws, header=(1, 2), widths={1: 34, 2: 60})
    ws = wb.create_sheet("地图")
    row = 1
    for key, png in inp.maps.items():
        X.put(ws, row, 1, map_caption(key, inp.kind_zh), coerce=False).font = X.HEADER_FONT
        img = XLImage(str(png))
        img.width, img.height = img.width * 0.75, img.height * 0.75
        ws.add_image(img, f"A{row + 1}")
        row += int(img.height / 20) + 4
    X.print_setup(ws)
    return atomic_file(path, wb.save)
