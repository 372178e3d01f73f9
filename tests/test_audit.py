"""``dingdian audit``: the published Zhangye tables, broken copies, a solved plan, bad files.

The published tables (``scenarios/zhangye/published``) are the plan as printed: the checks that
must pass pass (every county reaches 表2/表3 exactly, the streets add up to 甘州区, 全市 is the
sum of the counties, the bed tables agree), and the plan's known inconsistencies are found
(肃南县 has to exit admitted pharmacies again; the text's bed totals are not the tables').
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.check import audit as au
from dingdian.check import audit_checks as ac
from dingdian.check import audit_load as al
from dingdian.check import audit_read as ar
from dingdian.cli.audit import audit

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
PUBLISHED = ZHANGYE / "published"

# the plan's inconsistencies: (table, row, code, year)
KNOWN = {("表7", "肃南县", "b", "2027"), ("文字 text", "编制床位", "f", ""),
         ("文字 text", "实际开放床位", "f", "")}


def run(*args):
    return CliRunner().invoke(audit, [str(a) for a in args])


def failures(findings: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    bad = au.inconsistent(findings)
    return set(zip(bad["table"], bad["row"], bad["code"], bad["year"], strict=True))


def one(findings: pd.DataFrame, **match) -> pd.Series:
    rows = findings
    for key, value in match.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, (match, rows.to_dict("records"))
    return rows.iloc[0]


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return au.audit(al.load_tables(PUBLISHED / "audit.yaml"))


def test_published_targets_are_reached_exactly(published):
    a = published[published["code"] == "a"]
    assert len(a) == 24 and (a["result"] == ac.PASS).all()  # 6 counties × 2 kinds × 2028/2030
    row = one(a, table="表7", row="甘州区", year="2030")
    assert "318 + 准入 21 − 退出 150 (2025–2030) = 189 = 2030 目标 target 189" in row["detail"]
    row = one(a, table="表6", row="民乐县", year="2028")
    assert "220 + 准入 4 − 退出 20 (2025–2028) = 204" in row["detail"]


def test_published_sums_and_beds_pass(published):
    for code in ("c", "d", "e1", "e2", "e3", "e4", "e5"):
        rows = published[published["code"] == code]
        assert len(rows) and (rows["result"] == ac.PASS).all(), code
    d = published[published["code"] == "d"]
    assert set(d["table"]) == {"表8", "表9"}
    assert "街道合计 and 甘州区 (表7)" in one(d, table="表9")["detail"]
    assert "2956.8 → 2957" in one(published, code="e2", table="表1")["detail"]


def test_published_known_inconsistencies(published):
    assert failures(published) == KNOWN
    sunan = one(published, code="b", row="肃南县", table="表7")
    assert sunan["table"] == "表7" and sunan["result"] == ac.FAIL
    for text in ("退出 15 exits", "现有 6 existing", "准入 12", "at least 9 of the 12 admitted",
                 "pharmacies must exit again", "6→5→4→3→3→3→3"):
        assert text in sunan["detail"], text
    staffed = one(published, code="f", row="编制床位")["detail"]
    assert "11553" in staffed and "11762" in staffed and "209 lower" in staffed
    assert "11328" in one(published, code="f", row="实际开放床位")["detail"]
    # the text's other figures agree with the tables
    f = published[published["code"] == "f"]
    assert (f["result"] == ac.PASS).sum() == len(f) - 2


def test_cli_on_published_plan(tmp_path):
    out = tmp_path / "findings.csv"
    r = run(PUBLISHED / "audit.yaml", "--out", out)
    assert r.exit_code == 1, r.output
    assert "肃南县" in r.output and "不一致 inconsistent" in r.output
    assert "60 通过 pass, 3 不一致 inconsistent" in r.output
    written = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(written.columns) == [au.HEADINGS[c] for c in au.FINDING_COLUMNS]
    assert len(written) == 63 and (written["结果 result"] == ac.FAIL).sum() == 3
    r = run(PUBLISHED / "audit.yaml", "--problems-only")
    assert r.exit_code == 1 and "甘州区" not in r.output.split("findings")[-1]


def test_help_has_examples():
    r = run("--help")
    assert r.exit_code == 0
    assert "Examples:" in r.output and "dingdian audit scenarios/zhangye/published/audit.yaml" \
        in r.output and "--scenario" in r.output


# ---------------------------------------------------------------------------- broken copies


def edit_cell(path: Path, label: str, column: int, value: str) -> None:
    """Set the cell of the row starting with ``label``, column ``column`` (0 = the label)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    hit = [r for r in rows if r and r[0] == label]
    assert len(hit) == 1, label
    hit[0][column] = value
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def col(year: int, what: str) -> int:
    return 1 + 2 * (year - 2025) + (what == "退出")


@pytest.fixture
def copy(tmp_path) -> Path:
    dest = tmp_path / "published"
    shutil.copytree(PUBLISHED, dest)
    return dest


def test_broken_county_cell_is_flagged(copy):
    edit_cell(copy / "表7.csv", "山丹县", col(2026, "退出"), "3")  # was 2
    findings = au.audit(al.load_tables(copy / "audit.yaml"))
    assert failures(findings) - KNOWN == {("表7", "全市", "c", "2026"),
                                          ("表7", "山丹县", "a", "2028"),
                                          ("表7", "山丹县", "a", "2030")}
    city = one(findings, code="c", table="表7", year="2026")["detail"]
    assert "2026年退出: 全市 40 ≠ 41" in city and "山丹县 3" in city
    gap = one(findings, code="a", row="山丹县", table="表7", year="2028")["detail"]
    assert "= 68" in gap and "目标 target 69" in gap and "gap -1" in gap


def test_broken_street_cell_is_flagged(copy):
    edit_cell(copy / "表9.csv", "东街街道", col(2028, "准入"), "2")  # was 1
    findings = au.audit(al.load_tables(copy / "audit.yaml"))
    assert failures(findings) - KNOWN == {("表9", "街道合计", "d", "2028"),
                                          ("表9", "甘州区", "d", "2028")}
    county = one(findings, code="d", row="甘州区")["detail"]
    assert "2028年准入: 甘州区 (表7) 4 ≠ 5" in county and "东街街道 2" in county


def test_broken_bed_cells_are_flagged(copy):
    edit_cell(copy / "表4.csv", "高台县", 3, "+21")  # 调整数, was +20
    edit_cell(copy / "表5.csv", "三级医疗机构", 2, "3057")  # 规划, was 2957
    findings = au.audit(al.load_tables(copy / "audit.yaml"))
    new = failures(findings) - KNOWN
    assert ("表4", "高台县", "e4", "") in new and ("表4", "全市", "e3", "") in new
    assert "+21, but 1081 − 1061 = +20" in one(findings, code="e4", table="表4",
                                               result=ac.FAIL)["detail"]
    assert ("表1/表5", "三级", "e1", "") in new
    assert "表1 2957 ≠ 表5 3057" in one(findings, code="e1", row="三级")["detail"]
    ratio = one(findings, code="e2", table="表5", result=ac.FAIL)
    assert ratio["row"] == "三级医疗机构" and "2956.8" in ratio["detail"]


def test_exits_beyond_the_stock_in_a_year(copy):
    edit_cell(copy / "表7.csv", "肃南县", col(2025, "退出"), "9")  # 6 existing, 2 admitted
    findings = au.audit(al.load_tables(copy / "audit.yaml"))
    rows = findings[(findings["code"] == "b") & (findings["row"] == "肃南县")
                    & (findings["table"] == "表7")]
    assert set(rows["year"]) == {"2025"} and (rows["result"] == ac.FAIL).all()
    yearly, stock = sorted(rows["detail"], key=lambda d: not d.startswith("2025:"))
    assert "2025: 9 exits but only 6 pharmacies designated at the end of 2024" in yearly
    assert "the count would be -1" in yearly
    assert "退出 21 exits" in stock and "at least 15 of the 12 admitted" not in stock


# ---------------------------------------------------------------------------- layouts


def test_excel_with_the_plans_heading_rows(tmp_path):
    """表6–表9 on sheets with the merged year headings give the same findings as the CSVs."""
    from openpyxl import Workbook

    from dingdian.write.tables import table_specs, write_table_sheet

    wb = Workbook()
    wb.remove(wb.active)
    for spec in table_specs():
        table = ar.read_yearly(PUBLISHED / f"{spec.number}.csv", spec.number, spec.kind,
                               spec.level)
        flat = pd.DataFrame({spec.first_column: list(table.rows)})
        for y in table.years:
            flat[f"{y}年准入"] = table.admit.loc[list(table.rows), y].to_numpy()
            flat[f"{y}年退出"] = table.exit.loc[list(table.rows), y].to_numpy()
        write_table_sheet(wb.create_sheet(spec.number), spec, flat)
    book = tmp_path / "published.xlsx"
    wb.save(book)
    from_excel = au.audit(al.load_tables(book, scenario=ZHANGYE / "scenario.yaml"))
    assert failures(from_excel) == {("表7", "肃南县", "b", "2027")}
    from_csv = au.audit(al.load_tables(PUBLISHED / "audit.yaml"))
    keep = ["table", "row", "year", "code", "result"]
    for code in "abcd":
        x = from_excel[from_excel["code"] == code][keep].reset_index(drop=True)
        y = from_csv[(from_csv["code"] == code) & from_csv["table"].str.match(r"表[6-9]")]
        assert x.equals(y[keep].reset_index(drop=True)), code


def test_flattened_and_two_row_headings_read_alike(tmp_path):
    flat = tmp_path / "表8.csv"
    flat.write_text("网格划分,2025年准入,2025年退出,2026年准入,2026年退出\n"
                    "东街街道,0,3,0,2\n西街街道,1,2,0,1\n街道合计,1,5,0,3\n", encoding="utf-8")
    rows = tmp_path / "two.csv"
    rows.write_text("网格划分,2025,,2026,\n,准入,退出,准入,退出\n"
                    "东街街道,0,3,0,2\n西街街道,1,2,0,1\n街道合计,1,5,0,3\n", encoding="gb18030")
    a = ar.read_yearly(flat, "表8", "clinic", "street")
    b = ar.read_yearly(rows, "表8", "clinic", "street")
    assert a.first_column == b.first_column == "网格划分" and a.total == "街道合计"
    assert a.areas == b.areas == ("东街街道", "西街街道") and a.years == b.years == (2025, 2026)
    assert a.admit.equals(b.admit) and a.exit.equals(b.exit)


# ---------------------------------------------------------------------------- a solved plan


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    from dingdian.cli.main import main

    out = tmp_path_factory.mktemp("audit") / "out"
    r = CliRunner().invoke(main, ["solve", str(ZHANGYE / "scenario.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_solved_plan_passes(solved, tmp_path):
    r = run(solved, "--scenario", ZHANGYE / "scenario.yaml", "--out", tmp_path / "f.csv")
    assert r.exit_code == 0, r.output
    findings = pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig", dtype=str,
                           keep_default_na=False)
    codes = set(findings["代码 code"])
    assert {"a", "b", "c", "d", "e1", "e2", "e3", "e4", "e5"} <= codes
    assert (findings["结果 result"] == ac.PASS).all()
    r = run(solved / "plan.xlsx", "--scenario", ZHANGYE)
    assert r.exit_code == 0, r.output
    # with the text's figures, only the text's bed totals disagree
    r = run(solved, "--scenario", ZHANGYE, "--text-figures", PUBLISHED / "text_figures.yaml",
            "--problems-only")
    assert r.exit_code == 1 and "编制床位" in r.output and "实际开放床位" in r.output
    assert "2 不一致 inconsistent" in r.output


def test_folder_without_targets_skips_a_and_b(solved):
    r = run(solved)
    assert r.exit_code == 0 and "checks a and b skipped" in r.output


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("damage,expect", [
    (lambda d: edit_cell(d / "表7.csv", "山丹县", col(2026, "退出"), "x"),
     "表7.csv row 4 (山丹县), field '2026年退出': 'x' is not a whole number"),
    (lambda d: edit_cell(d / "表6.csv", "临泽县", col(2027, "准入"), ""),
     "表6.csv row 2 (临泽县), field '2027年准入': empty"),
    (lambda d: edit_cell(d / "表4.csv", "山丹县", 1, "1,49x"),
     "表4.csv row 4 (山丹县), field '现有床位数（张）'"),
    (lambda d: (d / "表9.csv").unlink(), "表9.csv: file not found"),
    (lambda d: (d / "表8.csv").write_text("网格划分,2025年准入\n东街街道,1\n", encoding="utf-8"),
     "表8.csv, field '2025年退出': missing"),
    (lambda d: (d / "audit.yaml").write_text("yearly: {表6: 表6.csv}\ncolour: red\n",
                                              encoding="utf-8"),
     "audit.yaml, field 'colour': unknown key"),
    (lambda d: (d / "表1.csv").write_bytes(b"\xff\xfe\x00garbage\x81"), "表1.csv"),
])
def test_bad_input_is_one_line_exit_2(copy, damage, expect):
    damage(copy)
    r = run(copy / "audit.yaml")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.stderr
    assert "Traceback" not in r.output


def test_bad_workbook_and_missing_source(tmp_path):
    book = tmp_path / "表7.xlsx"
    book.write_text("not a workbook", encoding="utf-8")
    r = run(book, "--scenario", ZHANGYE)
    assert r.exit_code == 2 and r.stderr.startswith("error: 表7.xlsx")
    r = run(tmp_path / "nothing_here")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
