"""The Chinese headings and item labels the workbooks print (plan.xlsx, report.xlsx,
compare.xlsx); the CSV files keep their column names (the output-file contract).

* :func:`plan_heading` — a plan.csv column → its heading on the 规划 sheet (``facility_id`` →
  ``机构编码``, ``"2024"`` → ``2024年定点``); the scenario's own Chinese headings
  (:data:`dingdian.scenario.aliases.COLUMNS`) where a column has one, so 机构类型 is ``kind``
  and 机构类别 ``category`` as in the input forms. Unknown columns keep their name.
* :func:`heading` — any other frame's column (``county`` → ``县区``, ``"2025"`` → ``2025年``).
* :func:`summary_label` — a dotted summary.json key → a Chinese item label, segment by segment
  (``coverage.clinic.2024.population_covered`` → ``服务圈覆盖 · 诊所 · 2024年 · 覆盖人口``).
* :func:`compare_heading`, :data:`COMPARE_SHEETS`, :data:`MEASURES` — compare.xlsx.
"""

from __future__ import annotations

import re

from dingdian.scenario.aliases import COLUMNS as ALIASES

_YEAR = re.compile(r"^\d{4}$")
_TRAILING_YEAR = re.compile(r"^(.+)_(\d{4})$")
_TERM = re.compile(r"^(\d+[a-z])_(.+)$")

#: plan.csv columns whose heading differs from the scenario's first alias, or has none
_PLAN = {
    "facility_id": "机构编码", "name": "机构名称", "kind": "机构类型", "category": "机构类别",
    "county": "县区", "street": "街道", "lon": "经度", "lat": "纬度", "protected": "受保护",
    "score": "考核/评审分", "status": "现状", "admitted_year": "准入年份",
    "exited_year": "退出年份", "protected_class": "保护依据", "special_zone": "特殊区域",
    "priority_tags": "优先标签", "speciality": "专科", "role_eligible": "可承担角色",
    "approval": "审批情况", "role_chronic": "门诊慢特病药店", "role_dual": "双通道药店",
    "exempt_rule": "豁免依据", "priority_class": "优先类别", "moves_from": "迁自",
    "available_from": "可准入年份", "cell_id": "服务圈编号",
}

#: columns of the other frames (beds by year, compare, targets …)
_COMMON = {
    **_PLAN, "year": "年份", "kind": "类别", "measure": "指标", "delta": "差值（后减前）",
    "first_year_differs": "首个不同年份", "zone": "城乡", "population": "人口",
    "existing": "现有", "designated": "定点数", "admitted": "准入", "exited": "退出",
    "beds": "床位数", "value": "数值", "rule": "依据", "reason": "理由", "target": "目标",
}

#: summary.json key segments (and coverage/compare measures)
SEGMENTS = {
    "scenario": "情景", "name": "名称", "title": "规划名称", "path": "路径", "solver": "求解器",
    "status": "求解状态", "objective": "目标函数值", "bound": "目标下界", "gap": "相对间隙",
    "build_seconds": "建模用时（秒）", "solve_seconds": "求解用时（秒）", "message": "求解器信息",
    "model_size": "模型规模", "variables": "变量数", "constraints": "约束数",
    "n_variables": "变量数", "n_constraints": "约束数", "objective_terms": "目标函数分项",
    "unique": "最优解唯一", "time_limit": "时间限制（秒）", "time_limit_reached": "已到时间限制",
    "cut_short": "未完成的求解", "coverage": "服务圈覆盖", "clinic": "诊所", "pharmacy": "药店",
    "clinic_category": "其中诊所", "must_cover_cells": "必保服务圈",
    "must_cover_covered": "已覆盖必保服务圈", "population_in_scope": "服务圈内人口",
    "population_covered": "覆盖人口", "population_covered_share": "人口覆盖率",
    "gain_cells": "可填补盲区", "gain_cells_filled": "已填补盲区", "blind_spots": "服务盲区",
    "blind_spot_cells": "盲区服务圈", "blind_spot_population": "盲区人口",
    "cells": "服务圈数", "population": "人口", "uncovered_cells": "未覆盖服务圈",
    "uncovered_population": "未覆盖人口", "verification": "校验", "passed": "通过",
    "checked": "已校验", "violations": "违规", "dingdian_version": "dingdian 版本",
    "created_utc": "生成时间（UTC）", "synthetic_data": "含合成数据", "note": "数据说明",
    "notes": "说明", "blind_spots_definition": "盲区定义", "blind_spots_text": "盲区（文本定义）",
    "definition_zh": "定义", "definition_en": "定义（英文）", "kind": "类别",
    "radius_m": "半径（米）", "measured_from": "量取起点", "by_year": "逐年",
    "population_urban": "城区人口", "population_rural": "农村人口",
    "cells_cell_radius": "服务圈数（服务圈半径）", "population_cell_radius": "人口（服务圈半径）",
    "targets": "目标", "nursing": "护理", "beds": "床位", "mode": "方式", "backend": "求解器",
    "headline": "结论", "street_split": "街道测算", "basic_set": "基本配置",
    "indices": "集聚度", "allocation": "配置规则", "source": "依据", "warnings": "提示",
    "complete": "配置齐全", "elderly_total": "60岁以上人口", "elderly_covered": "覆盖老年人口",
    "elderly_reachable": "可达老年人口", "elderly_unreachable": "不可达老年人口",
    "elderly_covered_by_year": "逐年覆盖老年人口", "coverage_share": "覆盖率",
    "coverage_share_reachable": "可达人口覆盖率", "sites_opened_by_year": "逐年新设站点",
    "sites_total": "站点合计", "cells_unreachable": "不可达服务圈", "bed_cap": "床位上限",
    "cap_share": "上限比例", "ltc_beneficiaries": "长护险待遇人数", "existing_beds": "现有床位",
    "planned_beds": "规划床位", "new_beds": "新增床位", "converted_beds": "转换床位",
    "institutions": "机构数", "no_new_beds": "不新增床位县区",
    "converted_by_county": "各县区转换床位", "branch": "分支", "figures": "测算",
    "verified": "已校验", "yearly_cut": "逐年削减", "to_nursing": "转护理床位",
    "weights": "权重", "geography": "地理因素", "applied": "采用", "comparison": "对比",
    "by_kind": "分类别", "admit": "准入", "exit": "退出", "largest": "最大差异",
    "street": "街道", "year": "年份", "rule": "规则测算", "published": "公布数",
    "special_zones": "特殊区域", "applicants_in_zones": "区域内申请机构", "blind": "盲区",
    "weak": "薄弱区域", "demand": "需求区域", "budget": "额度", "overrides": "突破额度",
    "proposals": "准入建议", "candidates": "候选机构", "file": "文件", "priorities": "优先",
    "remote": "偏远地区", "speciality": "专科特色", "chain": "连锁", "designated": "定点数",
    "admitted": "准入", "exited": "退出", "kinds": "类别", "hrad": "卫生资源集聚度",
    "hrad_pad": "集聚度比", "above_population_share": "机构占比高于人口占比",
    "difference": "差值", "cells_differing": "不同单元", "sum_abs_difference": "绝对差合计",
    "max_abs_difference": "最大绝对差", "planned_total": "规划合计",
    "census_population": "普查人口", "implied_population": "反推人口", "ratio": "比例",
    "split": "分配", "level_split": "按级别分配", "population_share": "按人口分配",
    "population_share_beds": "按人口分配床位", "published_beds": "公布床位",
    "occupancy": "床位使用率", "affordable_per_thousand": "可承担千人床位数",
    "target": "目标", "actual": "实际", "required": "要求", "computed": "测算",
    "coverage_cells": "覆盖服务圈", "crowding": "一圈多家", "exits": "退出",
    "admissions": "准入", "spread": "年度均衡", "priority": "优先", "roles": "药店角色",
    "elderly": "老年人覆盖", "sites": "站点", "cut_occupancy": "削减（使用率）",
    "add_vacancy": "增加（空床）",
}


def heading(name) -> str:
    """A frame's column as printed: known English names in Chinese, ``"2025"`` → ``2025年``."""
    s = str(name)
    if _YEAR.match(s):
        return f"{s}年"
    if s in _COMMON:
        return _COMMON[s]
    m = _TRAILING_YEAR.match(s)
    if m and m.group(1) in ("designated", "target", "admitted", "exited"):
        return f"{m.group(2)}年{_COMMON[m.group(1)]}"
    return s


def plan_heading(name) -> str:
    """A plan.csv column as the 规划 sheet prints it (year columns: ``2024年定点``)."""
    s = str(name)
    if _YEAR.match(s):
        return f"{s}年定点"
    if s in _PLAN:
        return _PLAN[s]
    if s in ALIASES:
        return ALIASES[s][0]
    return heading(s)


def segment(part: str) -> str:
    """One key segment in Chinese (years ``2024年``, ``8a_coverage`` → ``8a 覆盖``…)."""
    if _YEAR.match(part):
        return f"{part}年"
    if part in SEGMENTS:
        return SEGMENTS[part]
    m = _TERM.match(part)
    if m:
        return f"{m.group(1)} {SEGMENTS.get(m.group(2), m.group(2))}"
    m = _TRAILING_YEAR.match(part)
    if m and m.group(1) in SEGMENTS:
        return f"{SEGMENTS[m.group(1)]}（{m.group(2)}年）"
    return part


def summary_label(key: str) -> str:
    """A dotted summary.json key as a Chinese item label; unknown segments keep their name."""
    return " · ".join(segment(p) for p in str(key).split("."))


#: compare.xlsx: frame → sheet name
COMPARE_SHEETS = {"counts": "定点数对比", "coverage": "服务圈覆盖对比",
                  "summary": "求解结果对比", "facilities": "机构变化"}
#: compare.xlsx: values of the ``measure`` column
MEASURES = {"designated": "定点数", "admitted": "准入", "exited": "退出"}


def compare_heading(name, labels=()) -> str:
    """A compare frame's column: the runs' labels stay, ``<label>_path`` → ``<label> 逐年定点``."""
    s = str(name)
    if s in labels:
        return s
    for label in labels:
        if s == f"{label}_path":
            return f"{label} 逐年定点"
    return heading(s)


def measure_label(value) -> str:
    """A compare ``measure`` value in Chinese (counts, coverage and summary keys)."""
    s = str(value)
    return MEASURES.get(s) or summary_label(s)
