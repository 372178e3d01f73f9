"""A new scenario's skeleton: commented scenario.yaml and empty tables a planner fills in.

:func:`init` (``dingdian init DIR``) writes into a new folder:

* ``scenario.yaml`` — every key with a comment: what it is, its unit and default, and the plan
  section it comes from (:mod:`dingdian.scenario.template_yaml`); ``files:`` points at the
  workbook's sheets (``规划数据.xlsx#机构名单``) and, commented out, at the CSV files;
* ``规划数据.xlsx`` — a ``说明`` sheet first (every table and column: heading, code, required or
  optional, unit, allowed values with their Chinese forms, an example), then one sheet per
  table named as :data:`~dingdian.scenario.aliases.SHEETS` says, the first row holding the
  Chinese headings (the first name of each column in
  :data:`~dingdian.scenario.aliases.COLUMNS`), bold and frozen, with drop-down lists for the
  coded columns (机构类型 诊所/药店, 状态 现有/申请, 保护 是/否 …);
* ``csv/<sheet>.csv`` — the same tables as CSV files (UTF-8 with BOM, Chinese headings), for
  planners who prefer CSV;
* ``README.md`` — what to fill in, then ``dingdian validate`` and ``dingdian solve``.

The targets table (表2/表3) has ``县区, 机构类型, <base>年现有`` and ``<y>年目标`` for the mid-term
and final years (2028 and 2030 for 2025–2030, as the seeds' plans set them). With ``counties``
the census, targets and county-quota tables are pre-filled with one row per county (× kind ×
year), the figures left blank. The outlines (``县区边界.geojson``, ``城区范围.geojson``) are the
city's own and are not written. Nothing is ever overwritten: when any file to write exists,
nothing is written and :class:`~dingdian.errors.ScenarioError` says which.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from dingdian.errors import ScenarioError
from dingdian.scenario.aliases import COLUMNS, SHEETS, TABLES, VALUES
from dingdian.scenario.allocation import SPECIALITIES
from dingdian.scenario.schema import CATEGORIES
from dingdian.scenario.template_yaml import (
    COUNTIES_FILE,
    CSV_DIR,
    URBAN_FILE,
    WORKBOOK,
    scenario_yaml,
)

NOTES_SHEET = "说明"  # the readers skip it (dingdian.scenario.files)
KINDS_ZH = {"clinic": "诊所", "pharmacy": "药店"}
#: what each table holds and where its figures come from
TABLE_NOTES: dict[str, str] = {
    "census": "每个县区一行：常住人口与城镇人口比例（统计公报或人口普查）。 One row per county: "
              "census population and urban share.",
    "facilities": "基准年末的全部定点机构（状态 现有）和申请定点的机构（状态 申请），每家一行。 Every "
                  "designated facility at the end of the base year, and every applicant.",
    "targets": "表2/表3：各县区、各类机构的基准年现有数与中期、期末规划数（规划文件公布）。 The "
               "plan's county targets: the base-year count, the mid-term and final targets.",
    "county_quotas": "表6/表7：各县区、各类机构每年准入、退出数量（上限），每个县区×类型×年份一行。 "
                     "Yearly admissions and exits per county, kind and year.",
    "street_quotas": "表8/表9（可选）：设街道配置的县区，各街道每年准入、退出数量；合计不超过县区数。"
                     "无街道配置则留空。 Optional: the same per street.",
    "fund": "基金运行（可选，菏泽 二(三)1 基金风险闸门）：每个规划年度一行；在 scenario.yaml 启用 "
            "files.fund。 Optional: the fund-risk gate, one row per planning year.",
}
_YES_NO = "是 / 否（也可 1/0、有/无、yes/no）；空 = 否"
#: column code → (说明 meaning, 单位 unit, 示例 example); allowed values come from the aliases
COLUMN_NOTES: dict[str, tuple[str, str, str]] = {
    "facility_id": ("机构唯一编码（医保定点编码或自编），不可重复", "", "DC-C-01"),
    "name": ("机构名称", "", "东城区仁和诊所"),
    "kind": ("机构类型：无住院服务定点医疗机构或定点零售药店", "", "诊所"),
    "category": ("机构类别，须与机构类型相符", "", "村卫生室"),
    "county": ("所属县区，与县区边界中的名称一致", "", "东城区"),
    "street": ("所属街道，与城区范围中的街道名一致；不设街道配置的县区留空", "", "东街街道"),
    "lon": ("经度（坐标系见 scenario.yaml 的 coordinates）", "度 degrees", "112.4190"),
    "lat": ("纬度", "度 degrees", "32.0405"),
    "status": ("基准年末已定点，或申请定点", "", "现有"),
    "score": ("现有机构：考核得分；申请机构：公开评议得分", "分 points, 0–100 整数", "88"),
    "available_from": ("申请机构最早可准入的年份；空 = 第一个规划年", "年 year", "2026"),
    "protected": ("不做调控、永不退出（类别保护另见 protected_categories）", "", "否"),
    "compliant": ("药店：资质合规、可承担门诊慢特病/双通道等职能；空 = 是", "", "是"),
    "speciality": ("诊所：紧缺专科（优先纳入）", "", ""),
    "exempt": ("豁免规划限制的情形（菏泽 二(三)2、二(三)3）", "", ""),
    "priority": ("可优先纳入的类别（菏泽 二(二)），仅诊所", "", ""),
    "moves_from": ("申请行：跨医保管理区域变更注册地址时，原址机构的编码", "", "DC-C-02"),
    "population": ("常住人口（人口普查或统计公报）", "人 persons, 整数", "80000"),
    "urban_share": ("城镇人口比例（城镇化率），写小数", "比例 fraction 0–1", "0.45"),
    "source": ("数据来源（可选）", "", "2020年第七次人口普查"),
    "year": ("规划年度", "年 year", "2025"),
    "admit": ("当年准入数量（上限）", "家 facilities, 整数 ≥ 0", "1"),
    "exit": ("当年退出数量（上限）", "家 facilities, 整数 ≥ 0", "1"),
    "balance_last_year": ("上一年度当期结余；负数为赤字", "万元", "-18500"),
    "balance_projected": ("预计本年度当期结余；负数为收不抵支", "万元", "1200"),
    "months_payable": ("累计结余可支撑月数", "月 months", "7.5"),
    "months_required": ("国家和省规定的最低可支撑月数", "月 months", "6"),
    "warning_letter": ("是否收到基金运行风险预警函", "", "否"),
}
#: columns with a drop-down list in the workbook (Chinese values; the codes are accepted too)
LISTS: dict[str, tuple[str, ...]] = {
    "kind": ("诊所", "药店"),
    "category": ("诊所", "村卫生室", "社区卫生服务中心", "社区卫生服务站", "内设医疗机构", "连锁药店",
                 "单体药店"),
    "status": ("现有", "申请"),
    "protected": ("是", "否"),
    "compliant": ("是", "否"),
    "warning_letter": ("是", "否"),
}


def target_years(years: Sequence[int]) -> list[int]:
    """The years of the targets table: the mid-term year and the last (2028, 2030 for
    2025–2030, as 表2/表3 of the seeds' plans)."""
    years = list(years)
    return sorted({years[len(years) // 2], years[-1]}) if len(years) > 1 else years


def columns(key: str, base_year: int, years: Sequence[int]) -> list[tuple[str, str]]:
    """``(code, Chinese heading)`` of a table's columns, required first."""
    if key == "targets":
        return [("county", COLUMNS["county"][0]), ("kind", COLUMNS["kind"][0]),
                (f"existing_{base_year}", f"{base_year}年现有"),
                *((f"target_{y}", f"{y}年目标") for y in target_years(years))]
    required, optional = TABLES[key]
    return [(code, COLUMNS[code][0]) for code in (*required, *optional)]


def allowed(code: str) -> str:
    """The allowed values of a column, codes with their Chinese forms."""
    def forms(col: str, value: str) -> str:
        zh = [k for k, v in VALUES.get(col, {}).items() if v == value]
        return f"{value} = {'、'.join(zh)}" if zh else value

    if code == "kind":
        return "; ".join(forms("kind", k) for k in ("clinic", "pharmacy"))
    if code == "category":
        return " | ".join(f"{KINDS_ZH[k]}: " + "; ".join(forms("category", c) for c in cats)
                          for k, cats in CATEGORIES.items())
    if code in ("status", "exempt", "priority"):
        return "; ".join(forms(code, v) for v in dict.fromkeys(VALUES[code].values())) \
            + ("" if code == "status" else "; 空 = 无")
    if code == "speciality":
        return "; ".join(f"{v}（{k}）" for k, v in SPECIALITIES.items()) + "; 填中文或英文代码; 空 = 无"
    if code in ("protected", "compliant", "warning_letter"):
        return _YES_NO if code != "compliant" else _YES_NO.replace("空 = 否", "空 = 是")
    return {"county": "县区边界中的县区名", "street": "城区范围中该县区的街道名，或空",
            "year": "规划年度之一", "moves_from": "同类现有机构的编码，或空"}.get(code, "")


def notes_rows(base_year: int, years: Sequence[int]) -> list[list[str]]:
    """The 说明 sheet: general rules, then one row per column of every table."""
    head = ["工作表 sheet", "列名 heading", "代码 code", "必填 required", "单位 unit",
            "取值 allowed values", "示例 example", "说明 meaning"]
    rows = [
        ["填写说明 How to fill in this workbook"],
        ["每个工作表第一行是列名，从第二行起每行一条记录；列名也可写英文代码（facility_id），"
         "中文列名的其他写法见 docs/scenario-format.md。"],
        ["出错时按 Excel 显示的行号报告（列名行为第 1 行）。本表（说明）不被读取。"],
        [f"规划期 {years[0]}—{years[-1]} 年，基准年 {base_year}（年末现状）。"],
        [],
        head,
    ]
    for key in SHEETS:
        rows.append([SHEETS[key], TABLE_NOTES[key]])
        required = set(TABLES[key][0])
        for code, heading in columns(key, base_year, years):
            if code.startswith(("existing_", "target_")):
                what = ("基准年末定点数（表2/表3 现有数），须等于机构名单中的现有机构数"
                        if code.startswith("existing_") else
                        f"{code[-4:]} 年末的规划数（表2/表3 中期目标或规划数）")
                rows.append([SHEETS[key], heading, code, "必填 required", "家 facilities",
                             "整数 ≥ 0", "3", what])
                continue
            meaning, unit, example = COLUMN_NOTES[code]
            need = "必填 required" if code in required else "可选 optional"
            values = allowed(code)
            if code == "street" and key == "facilities":
                need = "必填，可空 required, may be empty"
            elif code == "street":
                values, meaning = "城区范围中该县区的街道名", "街道名，与城区范围中的街道名一致"
            if code == "source" and key == "fund":
                example = "医保基金运行分析"
            rows.append([SHEETS[key], heading, code, need, unit, values, example, meaning])
        rows.append([])
    return rows


def _rows(key: str, counties: Sequence[str], years: Sequence[int], width: int) -> list[list]:
    """Pre-filled rows: one per county (× kind × year), the figures blank."""
    def pad(row: list) -> list:
        return row + [None] * (width - len(row))

    if key == "census":
        return [pad([c]) for c in counties]
    if key == "targets":
        return [pad([c, KINDS_ZH[k]]) for c in counties for k in KINDS_ZH]
    if key == "county_quotas":
        return [pad([c, KINDS_ZH[k], y]) for c in counties for k in KINDS_ZH for y in years]
    if key == "fund":
        return [pad([y]) for y in years]
    return []


def _width(text) -> float:
    """A column width that fits ``text`` (a CJK character is two units wide)."""
    s = "" if text is None else str(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s) + 2


def workbook(tables: dict[str, tuple[list[tuple[str, str]], list[list]]],
             notes: list[list[str]]) -> bytes:
    """规划数据.xlsx: the 说明 sheet, then one sheet per table (bold, frozen headings, lists)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ws = wb.active
    ws.title = NOTES_SHEET
    for row in notes:
        ws.append(row)
    ws["A1"].font = Font(bold=True, size=13)
    for row in ws.iter_rows():
        if len(row) > 1 and row[0].value and row[1].value and row[2].value is None:
            row[0].font = row[1].font = bold  # a table's title line
        if row[0].value == "工作表 sheet":
            for cell in row:
                cell.font, cell.fill = bold, fill
    for i, width in enumerate((14, 16, 20, 16, 18, 60, 16, 60), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=7):
        for cell in row[5:8]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for key, (cols, rows) in tables.items():
        ws = wb.create_sheet(SHEETS[key])
        ws.append([heading for _, heading in cols])
        for row in rows:
            ws.append(row)
        for i, (code, heading) in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font, cell.fill = bold, fill
            example = COLUMN_NOTES.get(code, ("", "", ""))[2]
            ws.column_dimensions[get_column_letter(i)].width = max(10, _width(heading),
                                                                   _width(example))
            if code in LISTS:
                dv = DataValidation(type="list", formula1='"' + ",".join(LISTS[code]) + '"',
                                    allow_blank=True, showErrorMessage=True,
                                    errorStyle="warning",
                                    error="请从列表选择（英文代码亦可）。 Choose from the list "
                                          "(the English codes are accepted too).",
                                    errorTitle=heading)
                dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}5000")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_text(cols: list[tuple[str, str]], rows: list[list]) -> str:
    """A CSV template: the Chinese headings, then the pre-filled rows (written UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([heading for _, heading in cols])
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()


def readme(folder: Path, city: str, years: Sequence[int]) -> str:
    """README.md of the new folder: what to fill in, then how to check and solve."""
    where = folder.as_posix()
    sheets = "\n".join(f"   - **{SHEETS[k]}** (`{k}`): {TABLE_NOTES[k]}" for k in SHEETS)
    return f"""# {city}定点医药机构资源配置规划 scenario ({years[0]}–{years[-1]})

Written by `dingdian init`. Fill in the files below, then check and solve. The format of every
file and column: `docs/scenario-format.md` of dingdian; a complete small example:
`scenarios/example/`.

## 要填写的内容 What to fill in

1. **{WORKBOOK}** — one sheet per table; the `{NOTES_SHEET}` sheet explains every column
   (heading, code, required or optional, unit, allowed values, example). Headings may stay
   in Chinese; values may be Chinese (诊所, 现有, 是) or the English codes (clinic, existing, 1).
{sheets}

   Prefer CSV? The same tables are in `{CSV_DIR}/` (UTF-8 with BOM; GBK is read too): switch
   the lines under `files:` in `scenario.yaml` to them.
2. **{COUNTIES_FILE}** — the county outlines, one polygon per county, the county's name in the
   property `grid.county_property` of `scenario.yaml` (`name` here). A Shapefile (`.shp` with its
   `.shx`, `.dbf`, `.prj`) or a GeoPackage (`.gpkg`) works too, in any CRS it declares: change
   `files.counties`.
3. **{URBAN_FILE}** — the urban areas (城区) with the properties `county`, `street` (the street's
   name where the plan sets street quotas, else empty) and `name`; any format as above.
4. **scenario.yaml** — check `crs` (the UTM zone of the city), `coordinates` (`wgs84`, or
   `gcj02` for points from 高德/腾讯, `bd09` from 百度), the service radii under `grid`, and the
   switches; every key is explained in its comment.

## 检查与求解 Check and solve

```bash
dingdian validate {where}
dingdian solve {where} --out out
```

`validate` lists every problem at once, each naming the file, the row as Excel shows it (the
heading is row 1) and the column. `solve` writes the plan (plan.csv, 表6–表9 in tables/,
plan.xlsx, summary.json) to `out/`.
"""


def init(folder: str | Path, *, city: str = "示例市", counties: Iterable[str] = (),
         base_year: int = 2024, years: Sequence[int] | None = None) -> list[Path]:
    """Write a new scenario's skeleton into ``folder`` (created); return the files written.

    ``years`` defaults to the six years after ``base_year`` (2025–2030); ``counties``
    pre-fill the census, targets and county-quota tables. Refuses, writing nothing, when
    ``folder`` already holds ``scenario.yaml`` or any other file it would write.
    """
    folder = Path(folder)
    years = list(years) if years is not None else list(range(base_year + 1, base_year + 7))
    if not years or years != list(range(base_year + 1, base_year + 1 + len(years))):
        raise ScenarioError(str(folder), None, "years",
                            f"planning years must be consecutive from {base_year + 1}")
    counties = [str(c).strip() for c in counties if str(c).strip()]
    if len(set(counties)) != len(counties):
        raise ScenarioError(str(folder), None, "county", "a county is named twice")
    if (folder / "scenario.yaml").exists():
        raise ScenarioError(str(folder), None, None,
                            "already holds scenario.yaml; nothing written")
    if folder.exists() and not folder.is_dir():
        raise ScenarioError(str(folder), None, None, "is a file, not a folder; nothing written")
    tables = {}
    for key in SHEETS:
        cols = columns(key, base_year, years)
        tables[key] = (cols, _rows(key, counties, years, len(cols)))
    files: dict[Path, bytes] = {
        folder / "scenario.yaml": scenario_yaml(folder, city, base_year, years, counties)
        .encode("utf-8"),
        folder / WORKBOOK: workbook(tables, notes_rows(base_year, years)),
        **{folder / CSV_DIR / f"{SHEETS[k]}.csv": csv_text(*tables[k]).encode("utf-8-sig")
           for k in SHEETS},
        folder / "README.md": readme(folder, city, years).encode("utf-8"),
    }
    there = [p for p in files if p.exists()]
    if there:
        raise ScenarioError(str(there[0]), None, None, "already exists; nothing written")
    (folder / CSV_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for path, data in files.items():
        with open(path, "xb") as fh:  # never overwrite, even a file that appeared meanwhile
            fh.write(data)
        written.append(path)
    return written

