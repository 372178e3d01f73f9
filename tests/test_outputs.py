"""Counts, 表6–表9 layout and the atomic output writer, on a hand-built seven-facility plan."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from dingdian.result import SolveResult
from dingdian.write import frames, outputs
from dingdian.write import tables as T

YEARS = list(range(2024, 2031))


def _facilities() -> pd.DataFrame:
    rows = [  # id, kind, county, street, status, protected
        ("c1", "clinic", "甘州区", "东街街道", "existing", False),
        ("c2", "clinic", "甘州区", "东街街道", "applicant", False),
        ("c3", "clinic", "临泽县", "", "existing", True),
        ("c4", "clinic", "临泽县", "", "existing", False),
        ("p1", "pharmacy", "甘州区", "西街街道", "existing", False),
        ("p2", "pharmacy", "临泽县", "", "applicant", False),
        ("p3", "pharmacy", "临泽县", "", "applicant", False),
    ]
    f = pd.DataFrame(rows, columns=["facility_id", "kind", "county", "street", "status",
                                    "protected"])
    f["name"] = "机构" + f["facility_id"]
    f["category"] = f["kind"].map({"clinic": "诊所", "pharmacy": "零售药店"})
    f["lon"], f["lat"], f["score"] = 100.45, 38.93, 80
    f["available_from"], f["x"], f["y"], f["cell_id"] = 2025, 0.0, 0.0, ""
    return f


def _designated() -> pd.DataFrame:
    paths = {  # 2024 … 2030
        "c1": [1, 1, 0, 0, 0, 0, 0],  # exits 2026
        "c2": [0, 1, 1, 1, 1, 1, 1],  # admitted 2025
        "c3": [1, 1, 1, 1, 1, 1, 1],
        "c4": [1, 1, 1, 0, 0, 0, 0],  # exits 2027
        "p1": [1, 0, 0, 0, 0, 0, 0],  # exits 2025
        "p2": [0, 0, 1, 1, 1, 1, 1],  # admitted 2026
        "p3": [0, 0, 0, 0, 0, 0, 0],
    }
    d = pd.DataFrame.from_dict(paths, orient="index", columns=YEARS)
    d.index.name = "facility_id"
    return d


def _scenario() -> SimpleNamespace:
    cells = pd.DataFrame({
        "cell_id": ["g1", "g2", "g3"], "county": ["甘州区", "临泽县", "临泽县"],
        "street": ["东街街道", "", ""], "zone": ["urban", "rural", "rural"],
        "x": 0.0, "y": 0.0, "lon": 100.4, "lat": 38.9, "radius_m": 1060.82,
        "population": [100, 50, 0], "must_cover_clinic": [True, True, False],
        "must_cover_pharmacy": [True, False, False], "blind_spot": [False, True, False],
        "blind_spot_clinic": False, "blind_spot_pharmacy": [False, True, False],
        "gain_clinic": False, "gain_pharmacy": [False, True, False],
    })
    reach = {("g1", "clinic"): ("c1", "c2"), ("g1", "pharmacy"): ("p1",),
             ("g2", "clinic"): ("c3",), ("g2", "pharmacy"): ("p2", "p3")}
    quotas = pd.DataFrame(
        [("street", "甘州区", "西街街道", "pharmacy", 2025, 1, 1),
         ("street", "甘州区", "东街街道", "clinic", 2025, 1, 1),
         ("county", "临泽县", "临泽县", "clinic", 2025, 1, 1)],
        columns=["level", "county", "area", "kind", "year", "admit", "exit"])
    targets = pd.DataFrame(
        [("甘州区", "clinic", 1, 1, 1), ("临泽县", "clinic", 2, 1, 1),
         ("甘州区", "pharmacy", 1, 0, 0), ("临泽县", "pharmacy", 0, 1, 1)],
        columns=["county", "kind", "existing_2024", "target_2028", "target_2030"])
    config = SimpleNamespace(name="tiny", title="测试", base_year=2024, years=tuple(YEARS[1:]))
    return SimpleNamespace(path=Path("tiny"), config=config, facilities=_facilities(),
                           cells=cells, reach=reach, quotas=quotas, targets=targets, problem=None)


def _result() -> SolveResult:
    return SolveResult(backend="highs", status="optimal", objective=12.0, bound=12.0, gap=0.0,
                       n_variables=10, n_constraints=5, designated=_designated(),
                       objective_terms={"churn": 20.0})


def _counts() -> pd.DataFrame:
    return T.counts_frame(_facilities(), _designated(), counties=["甘州区", "临泽县"],
                          streets=[("甘州区", "西街街道"), ("甘州区", "东街街道")])


def _row(counts, county, street, kind, year):
    r = counts[(counts.county == county) & (counts.street == street) & (counts.kind == kind)
               & (counts.year == year)]
    assert len(r) == 1
    return tuple(int(v) for v in r[["designated", "admitted", "exited"]].iloc[0])


def test_counts_match_hand_computed_values():
    c = _counts()
    assert list(c.columns) == T.COUNT_COLUMNS
    assert _row(c, "甘州区", "", "clinic", 2024) == (1, 0, 0)
    assert _row(c, "甘州区", "", "clinic", 2025) == (2, 1, 0)
    assert _row(c, "甘州区", "", "clinic", 2026) == (1, 0, 1)
    assert _row(c, "临泽县", "", "clinic", 2027) == (1, 0, 1)
    assert _row(c, "全市", "", "clinic", 2024) == (3, 0, 0)
    assert _row(c, "全市", "", "clinic", 2025) == (4, 1, 0)
    assert _row(c, "全市", "", "pharmacy", 2025) == (0, 0, 1)
    assert _row(c, "全市", "", "pharmacy", 2026) == (1, 1, 0)
    assert _row(c, "甘州区", "东街街道", "clinic", 2026) == (1, 0, 1)
    assert _row(c, "甘州区", "西街街道", "pharmacy", 2025) == (0, 0, 1)
    assert _row(c, "甘州区", "西街街道", "clinic", 2025) == (0, 0, 0)  # every kind per area
    base = c[c.year == 2024]
    assert (base[["admitted", "exited"]] == 0).all().all()
    # county rows in targets order, then 全市, then streets in quota order
    assert list(dict.fromkeys(zip(c.county, c.street, strict=True))) == [
        ("甘州区", ""), ("临泽县", ""), ("全市", ""),
        ("甘州区", "西街街道"), ("甘州区", "东街街道")]


def test_county_table_layout_and_totals():
    t = T.yearly_table(_counts(), "clinic", "county")
    assert list(t.columns) == ["区域"] + [f"{y}年{w}" for y in YEARS[1:] for w in ("准入", "退出")]
    assert list(t["区域"]) == ["甘州区", "临泽县", "全市"]
    assert t.loc[0, "2025年准入"] == 1 and t.loc[0, "2026年退出"] == 1
    assert t.loc[1, "2027年退出"] == 1
    body, total = t.iloc[:-1, 1:], t.iloc[-1, 1:]
    assert (body.sum() == total).all()
    heads = {s.number: s.heading for s in T.table_specs()}
    assert heads["表6"] == "表6 张掖市无住院服务定点医疗机构每年配置增减数量"
    assert heads["表7"] == "表7 张掖市定点零售药店每年配置增减数量"


def test_street_table_layout_and_totals():
    t = T.yearly_table(_counts(), "pharmacy", "street")
    assert t.columns[0] == "网格划分"
    assert list(t["网格划分"]) == ["西街街道", "东街街道", "街道合计"]
    assert t.loc[0, "2025年退出"] == 1
    assert (t.iloc[:-1, 1:].sum() == t.iloc[-1, 1:]).all()
    heads = {s.number: s.heading for s in T.table_specs()}
    assert heads["表8"] == "表8 甘州区各街道定点诊所每年配置增减数量"
    assert heads["表9"] == "表9 甘州区各街道定点零售药店每年配置增减数量"


def test_plan_frame_columns_and_flow_years():
    plan = frames.plan_frame(_facilities(), _designated())
    assert list(plan.columns) == frames.PLAN_FIRST + [str(y) for y in YEARS] + [
        "status", "admitted_year", "exited_year"]
    by = plan.set_index("facility_id")
    assert by.loc["c2", "admitted_year"] == 2025 and pd.isna(by.loc["c2", "exited_year"])
    assert by.loc["c4", "exited_year"] == 2027 and pd.isna(by.loc["p3", "admitted_year"])


def test_write_outputs_files(tmp_path):
    out = outputs.write_outputs(tmp_path / "out", _scenario(), _result(), verification=[])
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    stems = [s.file_stem for s in T.table_specs()]
    assert names == {"plan.csv", "cells.csv", "counts.csv", "decisions.csv", "plan.xlsx",
                     "summary.json", *(f"tables/{s}.csv" for s in stems)}
    assert stems[0] == "表6_无住院服务定点医疗机构每年配置增减数量"
    t6 = pd.read_csv(out / "tables" / f"{stems[0]}.csv", encoding="utf-8-sig")
    assert t6.columns[0] == "区域" and t6.iloc[-1, 0] == "全市"
    assert (out / "tables" / f"{stems[0]}.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    assert (out / "plan.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    lines = (out / "plan.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[2].endswith(",applicant,2025,")  # c2: integer year, empty exit
    cells = pd.read_csv(out / "cells.csv").set_index("cell_id")
    assert list(cells.columns[:9]) == frames.CELL_FIRST[1:]
    assert cells.loc["g1", "clinic_2025"] == 2 and cells.loc["g1", "clinic_2026"] == 1
    assert cells.loc["g1", "pharmacy_2025"] == 0 and cells.loc["g2", "pharmacy_2026"] == 1
    assert cells.loc["g3", "clinic_2030"] == 0

    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "optimal" and s["synthetic_data"] is True
    assert s["verification"] == {"passed": True, "checked": True, "violations": []}
    cov = s["coverage"]["pharmacy"]
    assert cov["2025"]["must_cover_covered"] == 0 and cov["2024"]["must_cover_covered"] == 1
    assert cov["2026"]["gain_cells_filled"] == 1 and cov["2025"]["gain_cells_filled"] == 0
    assert s["blind_spots"]["pharmacy"]["population"] == 50
    tg = {(r["county"], r["kind"]): r for r in s["targets"]}
    assert tg[("临泽县", "clinic")]["designated_2028"] == 1
    assert tg[("临泽县", "clinic")]["target_2030"] == 1

    wb = openpyxl.load_workbook(out / "plan.xlsx")
    assert wb.sheetnames == ["表6", "表7", "表8", "表9", "规划", "汇总"]
    ws = wb["表6"]
    assert ws["A1"].value.startswith("表6 ") and ws["A2"].value == "区域"
    assert ws["B2"].value == "无住院服务定点医疗机构每年配置增减数"
    assert ws["B3"].value == "2025年" and ws["B4"].value == "准入" and ws["C4"].value == "退出"
    assert "B3:C3" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.cell(ws.max_row, 1).value == "全市"
    assert wb["表8"]["A2"].value == "网格划分"
    assert wb["规划"].max_row == 2 + len(_facilities())  # title, headings, one row each


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_write_leaves_old_output_intact(tmp_path, monkeypatch, exc):
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_text("old", encoding="utf-8")

    def boom(*_a, **_k):
        raise exc

    monkeypatch.setattr(outputs, "write_xlsx", boom)
    with pytest.raises(type(exc)):
        outputs.write_outputs(out, _scenario(), _result())
    assert (out / "plan.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in out.iterdir()) == ["plan.csv"]
    assert _leftovers(tmp_path) == []


def test_rewrite_replaces_old_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("x", encoding="utf-8")
    outputs.write_outputs(out, _scenario(), _result())
    assert not (out / "stale.txt").exists() and (out / "plan.csv").exists()
    assert _leftovers(tmp_path) == []


def test_no_plan_is_refused(tmp_path):
    with pytest.raises(ValueError):
        outputs.write_outputs(tmp_path / "out", _scenario(), SolveResult("highs", "infeasible"))
    assert list(tmp_path.iterdir()) == []


def test_extra_planners_files_sheets_and_summary(tmp_path):
    """Beds/nursing results land in OUT: files (tables/ with a BOM), xlsx sheets, summary."""
    from dingdian.result import ExtraResult

    beds = pd.DataFrame({"county": ["甘州区"], "year": [2030], "beds": [4560]})
    table = pd.DataFrame({"地区": ["甘州区"], "现有床位数（张）": [5542]})
    extra = ExtraResult("beds", files={"beds.csv": beds, "tables/表4_测试.csv": table},
                        sheets={"表4": table}, summary={"headline": "ok", "total": 4560},
                        violations=[])
    out = outputs.write_outputs(tmp_path / "out", _scenario(), _result(), verification=[],
                                extras=[extra])
    assert pd.read_csv(out / "beds.csv").equals(beds)
    assert (out / "tables" / "表4_测试.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (out / "beds.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # every CSV
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["beds"] == {"headline": "ok", "total": 4560, "violations": []}
    ws = openpyxl.load_workbook(out / "plan.xlsx")["表4"]
    assert ws["A1"].value == "表4"  # the title row, then the headings
    assert [c.value for c in ws[2]] == ["地区", "现有床位数（张）"]
    assert [c.value for c in ws[3]] == ["甘州区", 5542]
