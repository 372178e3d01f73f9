"""The commented ``scenario.yaml`` that ``dingdian init`` writes (:mod:`dingdian.scenario.templates`).

Every key carries a comment: what it is, its unit and default, and the plan section it comes
from when it does (张掖 = 《张掖市基本医保定点医药机构资源配置规划（2025年—2030年）》, 菏泽 =
《菏泽市医疗保障定点医药服务资源配置规划（2026—2030年）》). The defaults written are read from the
schema (:mod:`dingdian.scenario.schema`) and the model's dataclasses, so they cannot drift;
``tests/test_init.py`` checks that the file validates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dingdian.models.data import Options, Weights
from dingdian.scenario.aliases import SHEETS
from dingdian.scenario.schema import GridConfig, RulesConfig

WORKBOOK = "规划数据.xlsx"
COUNTIES_FILE, URBAN_FILE = "县区边界.geojson", "城区范围.geojson"
CSV_DIR = "csv"

#: weight → what it costs or gains, per unit (the objective's terms, dingdian.models.site)
WEIGHT_NOTES = {
    "coverage": "per person and year a fillable blind spot stays uncovered (8a; 优先受理服务盲区)",
    "crowding": "per facility and year beyond one in an urban cell (8b; 服务圈内原则上配置1家)",
    "exit_score": "times the score of each exited facility (8c; 末位淘汰)",
    "admit_review": "times the review score of each admitted applicant, a gain (8d; 择优准入)",
    "churn": "per admission and per exit: a swap must raise the score by more than twice this",
    "spread": "per unit of the busiest year's changes in a county and kind (8e; 逐年均衡)",
    "priority": "per admission of a priority class, a gain (8f; 菏泽 二(二) 可优先纳入)",
    "override": "per special-zone admission beyond the yearly limits (8g; 张掖 五(二)2 需专家论证)",
    "role": "times (101 - score) per pharmacy role holder (8h; 张掖 四(二))",
    "remote": "per admission in a blind spot or remote township, a gain (8i; 张掖 五(一)4)",
    "speciality": "per admission of an urgently needed speciality, a gain (8j; 张掖 五(一)4)",
    "chain": "per admission of a chain pharmacy, a gain (8k; 鼓励连锁化)",
}

_TEMPLATE = """\
# {title}
# Written by `dingdian init`. Fill in 规划数据.xlsx (or the CSV files in csv/), put the county and
# urban-area outlines beside this file, then:
#   dingdian validate {where}
#   dingdian solve {where} --out out
# Every key is explained in its comment and in docs/scenario-format.md; a key left out takes its
# default. 张掖 = the Zhangye plan (2025—2030), 菏泽 = the Heze plan (2026—2030): the sections cited.

# The scenario's short name (text, required); its first letter prefixes the planning cells' ids.
name: {name}
# The plan's title, shown in the outputs (text; default empty).
title: {title_q}
# The city in the tables' titles (表6/表7 "<city>无住院服务定点医疗机构…"; default 张掖市).
city: {city_q}
# What the scenario is, a sentence or two (text; default empty).
description: ""
# What in the data is NOT real, if anything (text; default null: all real).
synthetic: null
# Projected CRS for distances, in metres (required). The UTM zone of the city: EPSG:32646
# (90–96° E), 32647 (96–102° E), 32648 (102–108° E), 32649 (108–114° E), 32650 (114–120° E),
# 32651 (120–126° E), 32652 (126–132° E), 32653 (132–138° E); CGCS2000 Gauss-Krüger zones
# (EPSG:4534–4554) work too. A geographic CRS (EPSG:4326) is refused.
crs: EPSG:32650
# The datum of lon/lat in 机构名单 (default wgs84): wgs84 = GPS, 天地图 and national surveys;
# gcj02 = points picked from 高德 (Amap) or 腾讯 (Tencent) maps ("火星坐标"); bd09 = from 百度
# (Baidu) maps. Converted to WGS-84 on load; the outlines say their own CRS.
coordinates: wgs84
# The year whose end 机构名单's existing (现有) facilities describe: 表2/表3's 现有数 (required).
base_year: {base_year}
# The planning years (规划期), consecutive from base_year + 1 (required).
years: [{years}]

# The data files, relative to this file. A table is a sheet of an .xlsx workbook
# (规划数据.xlsx#机构名单; without "#sheet": the sheet of the table's default name, or the only
# sheet) or a .csv file (UTF-8, UTF-8 with BOM or GBK/GB18030). Headings may be Chinese (机构编码)
# or the English codes (facility_id): the 说明 sheet lists every column.
files:
  # County outlines (required), one polygon per county, the name in grid.county_property:
  # GeoJSON; a Shapefile (.shp with .shx/.dbf/.prj) or GeoPackage (.gpkg) works too, in any CRS.
  counties: {counties_file}
  # Urban areas (城区, required) with properties county, street (the street where the plan sets
  # street quotas, 表8/表9; else empty) and name; GeoJSON, Shapefile or GeoPackage, any CRS.
  urban_areas: {urban_file}
  # 县区人口 (required): population (persons) and urban share (0–1) per county.
  census: {sheet_census}
  # 机构名单 (required): every facility designated at the end of base_year, and the applicants.
  facilities: {sheet_facilities}
  # 规划目标 (required): 表2/表3, the base-year count and the mid-term and final targets.
  targets: {sheet_targets}
  # 县区年度配置 (required): 表6/表7, yearly admissions and exits per county, kind and year.
  county_quotas: {sheet_county_quotas}
  # 街道年度配置 (optional): 表8/表9, the same per street, at most the county's; may stay empty.
  street_quotas: {sheet_street_quotas}
  # 基金运行 (optional): the fund-risk gate (菏泽 二(三)1), one row per planning year.
  # fund: {sheet_fund}
  # 考核得分 by year (optional): 机构编码, 年度, 考核得分, one row per facility and year; other
  # years keep 机构名单's 得分. Feeds rules.pass_mark and 末位淘汰 (a sheet: name it, file#sheet).
  # scores: 考核得分.csv
  # The same tables as CSV files (written in csv/): replace the lines above by these.
{csv_lines}

# The planning cells: hexagons whose radius is the service circle (张掖 五(一)3).
grid:
  # Urban cell radius, metres (default {urban}: the 15-minute circle, 张掖 五(一)3; 菏泽 800, 二).
  urban_radius_m: {urban}
  # Rural cell radius, metres (default {rural}: 30 minutes, the urban radius doubled).
  rural_radius_m: {rural}
  # Counties whose villages need no pharmacy within the rural radius (default none; 张掖 四(二)
  # "肃南县除外").
  rural_pharmacy_exempt: []
  # Metres (default {decay:g}): the urban population thins out as exp(-d / this) from the centre
  # of its urban area.
  population_decay_m: {decay:g}
  # The property of the county outlines holding the county's name (default short_name; most
  # downloaded outlines call it name).
  county_property: name

# Facility categories that never exit (default none): village_clinic 村卫生室,
# community_health_centre 社区卫生服务中心, community_health_station, institution_clinic, clinic,
# chain_pharmacy, single_pharmacy. Name only what your plan protects, with its sentence
# (张掖 五(二)1(2): 原则上行政村卫生室不做调控); it is written beside each protected facility
# (plan.csv protected_class). One facility: 保护 = 是 in 机构名单.
protected_categories: [village_clinic]
protected_basis:                  # the plan's sentence for each protected category
  village_clinic: 原则上行政村卫生室不做调控（请改为本市规划的条款）  # 村卫生室

# The site model's switches.
options:
  # equal: the counts of the target years equal 规划目标 (表2/表3); at_most: they may stay
  # below (caps, as 菏泽 publishes no counts). Default {target_mode}.
  target_mode: {target_mode}
  # at_most: 县区年度配置's yearly exits are limits; exact: they must be met (reproduces 表6–表9).
  # Default {exit_mode}.
  exit_mode: {exit_mode}
  # The same for admissions. Default {admit_mode}.
  admit_mode: {admit_mode}
  # Apply 街道年度配置 (表8/表9): true or false. Default {street_quotas}.
  street_quotas: {street_quotas}

# The objective's weights: non-negative integers, points of the objective (docs/model.md).
weights:
{weight_lines}

# Switches of the plans' rules (default in brackets). Each also needs its data.
rules:
  # 张掖 五(一)3, 五(二)3 人口90%+地理10% street quotas: auto [default] = derive for a county with
  # streets but no rows in 街道年度配置, derive = always, off = never.
  street_split: {street_split}
  # The street split's geographic factor: area (km², default) or cells.
  street_split_geography: {street_split_geography}
  # 张掖 四(一) check: 综合医院, 中医类, 妇幼保健机构 per county (needs the beds plan's list) [true].
  basic_set: {basic_set}
  # Counties where an ethnic-medicine hospital comes first (民族地区, 张掖 四(一)) [none].
  ethnic_counties: []
  # 张掖 一(二)2, 附件1: agglomeration and density indices per county, indices.csv [true].
  indices: {indices}
  # 菏泽 二(二): no new facility within this many metres of one of its kind; null = off [null].
  near_radius_m: null
  # 菏泽 二(二) 有…定点医药机构: start = one designated when the year begins blocks that year,
  # end = only one designated at the year's end [start].
  near_timing: {near_timing}
  # 菏泽 二(二) 同类型: kind = clinic vs pharmacy, category = 机构名单's 机构类别 [kind].
  near_type: {near_type}
  # 菏泽 二(一)1: a year the beds plan pauses also stops clinic admissions [false].
  bed_pause_outpatient: {bed_pause_outpatient}
  # 菏泽 二(二): the priority bonus for 机构名单's 优先类别 column [true].
  priority: {priority}
  # 菏泽 二(三)2, 二(三)3: 机构名单's 豁免 column [true].
  exempt: {exempt}
  # 菏泽 二(三)1: the fund-risk gate from files.fund [true].
  fund_gate: {fund_gate}
  # 菏泽 二(二): moves across management areas, 机构名单's 迁自 column [true].
  moves: {moves}
  # 张掖 五(一)2 对考核不达标…的终止医保服务协议: a facility scoring below this in a year exits
  # that year (protected ones stay); null = off, as the plans give no mark [null].
  pass_mark: null
  # outside = those exits are not held back by 县区年度配置's exit limits, within = they count
  # there [outside].
  pass_mark_exits: outside

# Optional, each off unless given (docs/scenario-format.md#allocation):
# allocation:
#   zones: {{budget_per_year: 1}}        # 张掖 五(二)2 special zones: admissions beyond the limits
#   roles: {{chronic: {{residents: [30000, 50000]}}, dual: {{min: 1}}}}  # 张掖 四(二) pharmacy roles
#   sequencing: {{}}                     # 张掖 五(一)4, 七(三): exits before admissions
#   priorities: {{}}                     # 张掖 五(一)4: remote, speciality and chain bonuses
# beds: beds/beds.yaml                 # hospital beds (张掖 四(一)1, 表1/表4/表5), a YAML of its own
# nursing: nursing/nursing.yaml        # long-term-care institutions (张掖 四(三)), a YAML of its own
"""


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's syntax is YAML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def _b(value: bool) -> str:
    return "true" if value else "false"


def scenario_yaml(folder: Path, city: str, base_year: int, years: Sequence[int],
                  counties: Sequence[str]) -> str:
    """The text of the commented scenario.yaml (``counties`` are named in its header)."""
    options, weights, rules = Options(), Weights(), RulesConfig()
    grid = GridConfig.model_fields
    title = f"{city}基本医保定点医药机构资源配置规划（{years[0]}—{years[-1]}年）"
    name = "".join(ch for ch in folder.resolve().name if ch.isalnum() or ch in "-_") or "city"
    width = max(len(k) for k in WEIGHT_NOTES) + 1
    weight_lines = "\n".join(f"  {k + ':':<{width}} {getattr(weights, k):<4} # {note}"
                             for k, note in WEIGHT_NOTES.items())
    csv_lines = "\n".join(f"  # {k}: {CSV_DIR}/{SHEETS[k]}.csv" for k in SHEETS)
    if counties:
        title_line = f"{title}: {'、'.join(counties)}"
    else:
        title_line = title
    return _TEMPLATE.format(
        title=title_line, title_q=_q(title), city_q=_q(city), name=_q(name),
        where=folder.as_posix(), base_year=base_year, years=", ".join(map(str, years)),
        counties_file=COUNTIES_FILE, urban_file=URBAN_FILE,
        **{f"sheet_{k}": f"{WORKBOOK}#{SHEETS[k]}" for k in SHEETS}, csv_lines=csv_lines,
        urban=grid["urban_radius_m"].default, rural=grid["rural_radius_m"].default,
        decay=grid["population_decay_m"].default,
        target_mode=options.target_mode, exit_mode=options.exit_mode,
        admit_mode=options.admit_mode, street_quotas=_b(options.street_quotas),
        weight_lines=weight_lines, street_split=rules.street_split,
        street_split_geography=rules.street_split_geography, basic_set=_b(rules.basic_set),
        indices=_b(rules.indices), priority=_b(rules.priority), exempt=_b(rules.exempt),
        fund_gate=_b(rules.fund_gate), moves=_b(rules.moves), near_timing=rules.near_timing,
        near_type=rules.near_type, bed_pause_outpatient=_b(rules.bed_pause_outpatient),
    )
