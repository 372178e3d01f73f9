"""``dingdian init`` (a new city's skeleton) and ``scenarios/example`` (the minimal example).

The skeleton: scenario.yaml (valid, every key commented), 规划数据.xlsx (说明 first, one sheet per
table with the Chinese headings of the alias table), csv/ (UTF-8 with BOM, the same headings),
README.md; a second run refuses and changes nothing. The example: it validates, solves on
HiGHS to the plan its SOURCES.md tells (two admissions, three exits, every rule verified), and
the same data typed into the skeleton's workbook in Chinese solves to the same plan.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

import dingdian
from dingdian.cli.main import main
from dingdian.scenario.aliases import COLUMNS, SHEETS, TABLES, column_code
from dingdian.scenario.schema import ScenarioConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"
YEARS = [str(y) for y in range(2024, 2031)]
CSV_FILES = [f"csv/{sheet}.csv" for sheet in SHEETS.values()]
WRITTEN = ["scenario.yaml", "规划数据.xlsx", *CSV_FILES, "README.md"]


def _headings(key: str) -> list[str]:
    if key == "targets":
        return ["县区", "机构类型", "2024年现有", "2028年目标", "2030年目标"]
    required, optional = TABLES[key]
    return [COLUMNS[code][0] for code in (*required, *optional)]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "新城"
    r = CliRunner().invoke(main, ["init", str(folder), "--city", "新城市", "--county", "甲区",
                                  "--county", "乙县"])
    assert r.exit_code == 0, r.output
    return folder


def test_init_writes_the_files(city):
    assert sorted(_snapshot(city)) == sorted(WRITTEN)
    readme = (city / "README.md").read_text(encoding="utf-8")
    assert f"dingdian validate {city.as_posix()}" in readme
    assert f"dingdian solve {city.as_posix()} --out out" in readme


def test_workbook_has_the_sheets_and_the_chinese_headings(city):
    wb = load_workbook(city / "规划数据.xlsx")
    assert wb.sheetnames == ["说明", *SHEETS.values()]
    for key, sheet in SHEETS.items():
        ws = wb[sheet]
        heads = [c.value for c in ws[1]]
        assert heads == _headings(key), key
        codes = [column_code(h) for h in heads]
        assert None not in codes and len(set(codes)) == len(codes), (key, codes)
        if key != "targets":
            assert codes == [*TABLES[key][0], *TABLES[key][1]]
        assert all(c.font.bold for c in ws[1]) and ws.freeze_panes == "A2"
    codes = [column_code(c.value) for c in wb["规划目标"][1]]
    assert codes == ["county", "kind", "existing_2024", "target_2028", "target_2030"]
    lists = {str(dv.sqref): dv.formula1 for dv in wb["机构名单"].data_validations.dataValidation}
    assert lists["C2:C5000"] == '"诊所,药店"'  # 机构类型
    assert lists["I2:I5000"] == '"现有,申请"'  # 状态
    assert lists["L2:L5000"] == '"是,否"'  # 保护
    # --county pre-fills one row per county (× kind × year), the figures blank
    assert [r[:2] for r in wb["规划目标"].iter_rows(min_row=2, values_only=True)] == [
        ("甲区", "诊所"), ("甲区", "药店"), ("乙县", "诊所"), ("乙县", "药店")]
    quotas = list(wb["县区年度配置"].iter_rows(min_row=2, values_only=True))
    assert len(quotas) == 2 * 2 * 6 and quotas[0] == ("甲区", "诊所", 2025, None, None)


def test_notes_sheet_explains_every_column(city):
    notes = list(load_workbook(city / "规划数据.xlsx")["说明"].iter_rows(values_only=True))
    for key, sheet in SHEETS.items():
        rows = {r[2]: r for r in notes if r[0] == sheet and r[2]}
        for heading in _headings(key):
            code = column_code(heading)
            row = rows[code]
            assert row[1] == heading and row[3] and row[7], (sheet, code)
    kind = next(r for r in notes if r[2] == "kind")
    assert "clinic = 诊所" in kind[5] and "pharmacy = 药店" in kind[5]


def test_csv_templates_have_a_bom_and_the_same_headings(city):
    wb = load_workbook(city / "规划数据.xlsx")
    for key, sheet in SHEETS.items():
        data = (city / "csv" / f"{sheet}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), sheet
        rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
        assert rows[0] == _headings(key)
        cells = [["" if v is None else str(v) for v in r]
                 for r in wb[sheet].iter_rows(min_row=2, values_only=True)]
        assert rows[1:] == cells, sheet


def test_scenario_yaml_is_valid_and_every_key_is_commented(city):
    text = (city / "scenario.yaml").read_text(encoding="utf-8")
    cfg = ScenarioConfig.model_validate(yaml.safe_load(text))
    assert cfg.city == "新城市" and cfg.coordinates == "wgs84"
    assert cfg.base_year == 2024 and cfg.years == tuple(range(2025, 2031))
    assert cfg.files.facilities == "规划数据.xlsx#机构名单"
    assert cfg.files.counties == "县区边界.geojson" and cfg.files.urban_areas == "城区范围.geojson"
    for key, sheet in SHEETS.items():
        assert f"# {key}: csv/{sheet}.csv" in text  # the CSV alternatives, commented out
    assert "gcj02" in text and "高德" in text and "bd09" in text and "百度" in text
    assert "Shapefile" in text and "GeoPackage" in text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*[a-z_]+:", line):  # a key (not a comment)
            before = lines[i - 1].strip() if i else ""
            assert " # " in line or before.startswith("#"), f"no comment for: {line}"
    # the commented-out allocation example is valid too
    start = lines.index("# allocation:")
    block = [lines[start][2:]]
    for ln in lines[start + 1:]:
        if not ln.startswith("#   "):
            break
        block.append(ln[2:])
    extra = yaml.safe_load("\n".join(block))
    ScenarioConfig.model_validate({**yaml.safe_load(text), **extra})


def test_init_again_refuses_and_changes_nothing(city):
    before = _snapshot(city)
    r = CliRunner().invoke(main, ["init", str(city), "--city", "别的市"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "already holds scenario.yaml; nothing written" in lines[0]
    assert _snapshot(city) == before


def test_init_never_overwrites_any_file(tmp_path):
    (tmp_path / "README.md").write_text("mine", encoding="utf-8")
    with pytest.raises(dingdian.ScenarioError, match="already exists; nothing written"):
        dingdian.init(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "mine"


def test_init_other_years(tmp_path):
    written = dingdian.init(tmp_path / "h", city="菏泽市", base_year=2025,
                            years=range(2026, 2031))
    assert written[0] == tmp_path / "h" / "scenario.yaml"
    heads = [c.value for c in load_workbook(written[1])["规划目标"][1]]
    assert heads == ["县区", "机构类型", "2025年现有", "2028年目标", "2030年目标"]
    with pytest.raises(dingdian.ScenarioError, match="consecutive"):
        dingdian.init(tmp_path / "x", base_year=2025, years=[2027, 2028])


# ---------------------------------------------------------------- scenarios/example

def _decisions(plan) -> dict[str, tuple]:
    f = plan.facilities.set_index("facility_id")
    return {fid: tuple(int(v) for v in f.loc[fid, YEARS]) for fid in f.index}


@pytest.fixture(scope="module")
def example_plan():
    sc = dingdian.load(EXAMPLE)
    dingdian.check_inputs(sc)  # what `dingdian validate` runs
    return dingdian.solve(sc, solver="highs")


def test_example_solves_to_a_verified_plan(example_plan):
    plan = example_plan
    assert plan.status == "optimal" and plan.check() == []
    assert plan.summary["verification"]["passed"]
    rows = _decisions(plan)
    stay, gone = (1,) * 7, (1,) + (0,) * 6
    assert rows["DC-C-02"] == gone and rows["DC-P-02"] == gone  # 末位淘汰 in crowded cells
    assert rows["DC-P-04"] == (1, 1) + (0,) * 5
    assert rows["DC-A-01"] == rows["XS-A-01"] == (0,) + (1,) * 6  # blind spots filled
    assert rows["DC-A-02"] == (0,) * 7  # refused
    changed = {"DC-C-02", "DC-P-02", "DC-P-04", "DC-A-01", "XS-A-01", "DC-A-02"}
    assert all(v == stay for k, v in rows.items() if k not in changed)
    targets = {(t["county"], t["kind"]): t for t in plan.summary["targets"]}
    counts = plan.counts[plan.counts["street"] == ""].set_index(["county", "kind", "year"])
    for (county, kind), t in targets.items():
        for year in (2028, 2030):
            assert counts.loc[(county, kind, year), "designated"] == t[f"target_{year}"]
    assert set(plan.tables) >= {"表6", "表7", "表8", "表9"}


def test_example_is_consistent_and_documented():
    sc = dingdian.load(EXAMPLE)
    fac = sc.facilities[sc.facilities["status"] == "existing"]
    have = fac.groupby(["county", "kind"]).size()
    for r in sc.targets.itertuples(index=False):
        assert have[(r.county, r.kind)] == r.existing_2024
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    assert (EXAMPLE / "scenario.yaml").read_text(encoding="utf-8") in doc
    for name in ("census.csv", "facilities.csv", "targets.csv", "quotas_county.csv",
                 "quotas_street.csv"):
        head = (EXAMPLE / name).read_text(encoding="utf-8").splitlines()[:3]
        assert "\n".join(head) in doc, name
    assert "INVENTED" in (EXAMPLE / "SOURCES.md").read_text(encoding="utf-8")


_ZH = {"clinic": "诊所", "pharmacy": "药店", "existing": "现有", "applicant": "申请",
       "village_clinic": "村卫生室", "community_health_centre": "社区卫生服务中心",
       "chain_pharmacy": "连锁药店", "single_pharmacy": "单体药店"}
_TABLES = {"census": "census.csv", "facilities": "facilities.csv", "targets": "targets.csv",
           "county_quotas": "quotas_county.csv", "street_quotas": "quotas_street.csv"}


def test_the_example_typed_into_the_template_solves_alike(tmp_path, example_plan):
    """A planner's path: init, type the data in Chinese into 规划数据.xlsx, add the outlines."""
    folder = tmp_path / "示例"
    dingdian.init(folder, city="示例市", counties=["东城区", "西山县"])
    shutil.copy(EXAMPLE / "counties.geojson", folder / "县区边界.geojson")
    shutil.copy(EXAMPLE / "urban_areas.geojson", folder / "城区范围.geojson")
    wb = load_workbook(folder / "规划数据.xlsx")
    for key, name in _TABLES.items():
        ws = wb[SHEETS[key]]
        codes = [column_code(c.value) for c in ws[1]]
        ws.delete_rows(2, ws.max_row)
        with open(EXAMPLE / name, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                values = [row.get(c, "") for c in codes]
                values = [_ZH.get(v, v) if c in ("kind", "status", "category") else
                          {"0": "否", "1": "是"}.get(v, v) if c == "protected" else v
                          for c, v in zip(codes, values, strict=True)]
                ws.append([v if v != "" else None for v in values])
    wb.save(folder / "规划数据.xlsx")
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    text = text.replace("crs: EPSG:32650", "crs: EPSG:32649")
    text = text.replace("county_property: name", "county_property: short_name")
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    plan = dingdian.solve(folder, solver="highs")
    assert plan.status == "optimal" and plan.check() == []
    assert _decisions(plan) == _decisions(example_plan)
    assert plan.objective == example_plan.objective
