"""Print-ready workbooks and CSV files Excel opens on Chinese Windows (issue 14), on the example.

The small example city (a copy in tmp whose first facility is renamed to a live-looking formula,
``=HYPERLINK("http://x","y")``) is solved once per module with the real CLI, its report written,
the plan compared with a copy of itself and a two-run sweep run; then only the written files
are read: plan.xlsx, report.xlsx, compare.xlsx and every CSV.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from dingdian.cli.main import main
from dingdian.write import xlsx_labels as L
from dingdian.write import xlsx_style as X
from dingdian.write.outputs import gbk_safe, gbk_safe_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"
FORMULA = '=HYPERLINK("http://x","y")'
BOM = b"\xef\xbb\xbf"
NUMERIC_TEXT = re.compile(r"^\s*[+\-−]?[\d,]+(\.\d+)?%?\s*$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("workbooks")
    sc = tmp / "example"
    shutil.copytree(EXAMPLE, sc)
    fac = pd.read_csv(sc / "facilities.csv", dtype=str, keep_default_na=False)
    fac.loc[0, "name"] = FORMULA
    fac.to_csv(sc / "facilities.csv", index=False)
    out, copy = tmp / "out", tmp / "copy"
    run("solve", sc / "scenario.yaml", "--out", out, "--solver", "highs")
    run("report", out)
    shutil.copytree(out, copy)
    run("compare", out, copy, "--label", "甲", "--label", "乙", "--out", tmp / "cmp")
    run("sweep", sc / "scenario.yaml", "--set", "radius=1000,1060.82", "--out", tmp / "sweep",
        "--workers", "1")
    return {"out": out, "cmp": tmp / "cmp", "sweep": tmp / "sweep"}


@pytest.fixture(scope="module")
def books(runs) -> dict[str, Workbook]:
    return {"plan": load_workbook(runs["out"] / "plan.xlsx"),
            "report": load_workbook(runs["out"] / "report.xlsx"),
            "compare": load_workbook(runs["cmp"] / "compare.xlsx")}


def test_every_sheet_is_print_ready(books):
    for book, wb in books.items():
        for ws in wb.worksheets:
            where = f"{book}: {ws.title}"
            assert "_" not in ws.title and len(ws.title) <= 31, where
            assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), where
            assert ws.page_setup.orientation == "landscape", where
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, where
            assert ws.sheet_properties.pageSetUpPr.fitToPage, where
            assert ws.print_options.horizontalCentered, where
            assert ws.oddFooter.center.text == "第 &P 页 共 &N 页", where
    for ws in [*books["plan"].worksheets, *books["compare"].worksheets,
               *(ws for ws in books["report"].worksheets if ws.title.startswith("表"))]:
        assert ws.freeze_panes and ws.print_title_rows, ws.title  # headings stay in view


def test_tables_have_bordered_bodies_and_shaded_headings(books):
    t6 = books["plan"]["表6"]
    assert t6.freeze_panes == "B5" and t6.print_title_rows == "$1:$4"
    for row in t6.iter_rows(min_row=5, max_row=t6.max_row):
        assert all(c.border.left.style == "thin" and c.border.bottom.style == "thin"
                   for c in row)
    assert t6["B4"].font.b and t6["B4"].fill.fgColor.rgb.endswith("DDEBF7")
    assert t6.cell(5, 2).number_format == "#,##0" and isinstance(t6.cell(5, 2).value, int)
    for ws in (books["plan"]["规划"], *books["compare"].worksheets):
        if ws.max_row <= 2:
            continue  # no facility differs between a plan and its copy
        assert all(c.border.top.style == "thin" for c in ws[3]), ws.title


def test_year_headings_read_2025年(books):
    for ws in (books["plan"]["表6"],
               next(s for s in books["report"].worksheets if s.title.startswith("表6 "))):
        years = [c.value for c in ws[3] if c.value is not None]
        assert years == [f"{y}年" for y in range(2025, 2031)], ws.title
    assert books["report"].sheetnames[1].startswith("表6 无住院服务")


def _numeric_text(ws, col: int) -> list:
    """The strings of column ``col`` that look like numbers (none should)."""
    return [c.value for c in ws[get_column_letter(col)] if isinstance(c.value, str)
            and NUMERIC_TEXT.match(c.value)]


def test_summary_values_are_numbers_with_formats(books):
    ws = books["plan"]["汇总"]
    assert [c.value for c in ws[2]][:3] == ["项目", "值", "键名 key"]
    rows = {r[2].value: r for r in ws.iter_rows(min_row=3) if r[2].value}
    assert rows["objective"][0].value == "目标函数值" and rows["status"][0].value == "求解状态"
    assert isinstance(rows["objective"][1].value, (int, float))
    assert rows["objective"][1].number_format == "#,##0"
    share = rows["coverage.pharmacy.2030.population_covered_share"][1]
    assert isinstance(share.value, (int, float)) and share.number_format == "0.0%"
    assert rows["coverage.clinic.2024.population_covered"][0].value == \
        "服务圈覆盖 · 诊所 · 2024年 · 覆盖人口"
    assert _numeric_text(ws, 2) == []  # no number stored as text
    summary = books["report"]["技术说明"]
    items = {r[0].value: r[1] for r in summary.iter_rows(min_row=3) if r[0].value}
    assert isinstance(items["目标函数值"].value, (int, float))
    assert items["目标函数值"].number_format == "#,##0"
    for col in range(1, 10):
        assert _numeric_text(summary, col) == [], col
    shares = [c for c in summary["E"] if c.number_format == "0.0%"]
    assert shares and all(isinstance(c.value, (int, float)) for c in shares)  # 覆盖率 in %


def test_plan_and_compare_headings_are_chinese(runs, books):
    plan = pd.read_csv(runs["out"] / "plan.csv", dtype=str, keep_default_na=False)
    headings = [c.value for c in books["plan"]["规划"][2]]
    assert headings == [L.plan_heading(c) for c in plan.columns]
    assert headings[:3] == ["机构编码", "机构名称", "机构类型"] and "2024年定点" in headings
    assert all(CJK.search(h) for h in headings), headings
    assert books["compare"].sheetnames == list(L.COMPARE_SHEETS.values())
    for ws in books["compare"].worksheets:
        assert all(CJK.search(str(c.value)) for c in ws[2] if c.value), ws.title
    counts = books["compare"]["定点数对比"]
    assert {c.value for c in counts["E"][2:]} == {"定点数", "准入", "退出"}
    cmp = pd.read_csv(runs["cmp"] / "compare_counts.csv")
    assert list(cmp.columns[:5]) == ["county", "street", "kind", "year", "measure"]  # CSV as is


def test_formula_like_name_is_stored_as_text(runs, books):
    ws = books["plan"]["规划"]
    (cell,) = [c for c in ws["B"] if c.value == FORMULA]
    assert cell.data_type == "s" and cell.quotePrefix
    for book, wb in books.items():
        assert not [c.coordinate for ws in wb.worksheets for row in ws.iter_rows()
                    for c in row if c.data_type == "f"], book
    plan = pd.read_csv(runs["out"] / "plan.csv", dtype=str, keep_default_na=False)
    assert plan.loc[0, "name"] == FORMULA  # the CSV keeps the name as it is


def test_every_csv_has_a_bom_and_survives_gbk(runs):
    files = [p for key in ("out", "cmp", "sweep") for p in runs[key].rglob("*.csv")]
    names = {p.name for p in files}
    assert {"plan.csv", "cells.csv", "counts.csv", "decisions.csv", "compare_counts.csv",
            "sweep.csv", "sweep_counts.csv"} <= names
    for path in files:
        data = path.read_bytes()
        assert data.startswith(BOM), path
        text = data[3:].decode("utf-8")
        assert text.encode("gbk").decode("gbk") == text, path


def test_cell_writer_and_csv_symbols(tmp_path):
    wb = Workbook()
    ws = wb.active
    values = ["-4,333,778", "−12", "72.6%", "0071", FORMULA, "+1 more", "@x", "-", 3.5, True]
    for i, v in enumerate(values, 1):
        X.put(ws, i, 1, v)
    wb.save(tmp_path / "t.xlsx")
    got = load_workbook(tmp_path / "t.xlsx").active
    assert [got.cell(i, 1).value for i in range(1, 4)] == [-4333778, -12, pytest.approx(0.726)]
    assert [got.cell(i, 1).number_format for i in range(1, 4)] == ["#,##0", "#,##0", "0.0%"]
    assert got["A4"].value == "0071"  # a code, not a number
    for i in (5, 6, 7, 8):
        assert got.cell(i, 1).data_type == "s" and isinstance(got.cell(i, 1).value, str)
    assert got["A9"].number_format == "#,##0.00" and got["A10"].value == "是"
    assert X.sheet_name("表6_无住院服务定点医疗机构每年配置增减数量_合计_附表") == \
        "表6 无住院服务定点医疗机构每年配置增减数量 合计 附表"[:31]
    text = "⌊(测算值 − 实际值) × 常住人口 / 1000⌋ km²"
    safe = gbk_safe_text(text)
    assert safe.encode("gbk").decode("gbk") == safe and "向下取整" in safe
    frame = gbk_safe(pd.DataFrame({"差 a−b": ["1 − 2", None, 3]}))
    assert list(frame.columns) == ["差 a-b"] and frame.iloc[0, 0] == "1 - 2"
