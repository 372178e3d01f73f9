"""The one alias table: the Chinese headings and values a bureau's own lists use.

A column of any scenario table may be headed by its code (``facility_id``) or by one of its
Chinese names (机构编码); a bilingual heading that holds either (``机构编码 facility_id``) and a
heading with a unit in brackets (``人口（人）``) are read too. Values of the coded columns may be
written in Chinese as well (诊所 → ``clinic``, 是 → true). Nothing else is guessed: a heading or
value that is not in these tables is reported, naming the file, the row and the field.

``docs/scenario-format.md`` lists the same tables (``tests/test_aliases.py`` checks that it does).
Year columns of the targets table: ``2024年现有`` (or ``2024年存量``, ``2024现有``) is
``existing_2024`` and ``2028年目标`` (``2028年中期目标``, ``2028年规划``) is ``target_2028``.
The outlines' properties (``county``, ``street``, ``name`` of the urban areas) take the same
headings (县区, 街道, 名称).
"""

from __future__ import annotations

import re
import unicodedata

#: column code → its Chinese headings, in the order a template writes them (the first)
COLUMNS: dict[str, tuple[str, ...]] = {
    "facility_id": ("机构编码", "机构代码", "定点编码", "编码"),
    "name": ("机构名称", "名称"),
    "kind": ("机构类型", "类型", "定点类型"),
    "category": ("机构类别", "类别"),
    "county": ("县区", "区县", "所属县区", "县（区）", "县(区)"),
    "street": ("街道", "所属街道", "乡镇街道"),
    "lon": ("经度",),
    "lat": ("纬度",),
    "status": ("状态", "定点状态"),
    "score": ("得分", "考核得分", "评分", "评议得分"),
    "available_from": ("可准入年份", "申请年份"),
    "protected": ("保护", "是否保护", "不做调控"),
    "exempt": ("豁免", "豁免情形"),
    "priority": ("优先类别", "优先纳入类别"),
    "moves_from": ("迁自", "原址机构编码"),
    "compliant": ("管理规范", "是否规范"),
    "speciality": ("专科", "紧缺专科"),
    "population": ("人口", "常住人口", "人口数"),
    "urban_share": ("城镇化率", "城镇人口比例"),
    "source": ("来源", "数据来源"),
    "year": ("年份", "年度"),
    "admit": ("准入", "准入数", "准入数量", "新增"),
    "exit": ("退出", "退出数", "退出数量"),
    "balance_last_year": ("上一年度当期结余",),
    "balance_projected": ("预计本年度当期结余",),
    "months_payable": ("基金可支撑月数", "可支撑月数"),
    "months_required": ("要求支撑月数", "要求月数"),
    "warning_letter": ("风险预警函", "收到预警函"),
    # what happened, for a re-plan (dingdian replan --actual)
    "admitted_year": ("准入年份", "实际准入年份"),
    "exited_year": ("退出年份", "实际退出年份"),
    "withdrawn": ("撤回", "撤回申请"),
}

#: coded column → Chinese value → code
VALUES: dict[str, dict[str, str]] = {
    "kind": {
        "诊所": "clinic", "门诊": "clinic", "医疗机构": "clinic", "定点医疗机构": "clinic",
        "无住院服务定点医疗机构": "clinic",
        "药店": "pharmacy", "药房": "pharmacy", "零售药店": "pharmacy", "定点零售药店": "pharmacy",
    },
    "category": {
        "诊所": "clinic", "门诊部": "clinic", "村卫生室": "village_clinic",
        "社区卫生服务中心": "community_health_centre", "社区卫生服务站": "community_health_station",
        "内设医疗机构": "institution_clinic", "单位内设医疗机构": "institution_clinic",
        "医务室": "institution_clinic",
        "连锁药店": "chain_pharmacy", "连锁": "chain_pharmacy",
        "单体药店": "single_pharmacy", "单体": "single_pharmacy",
    },
    "status": {
        "现有": "existing", "已定点": "existing", "定点": "existing", "存量": "existing",
        "申请": "applicant", "新申请": "applicant", "申请定点": "applicant",
        "拟准入": "applicant", "待准入": "applicant",
    },
    "exempt": {
        "重点建设项目": "key_project", "基层公共卫生机构": "public_health",
        "2025年3月1日前已获许可": "licensed_before_2025",
    },
    "speciality": {
        "精神": "psychiatric", "精神科": "psychiatric", "儿童": "children", "儿科": "children",
        "护理": "nursing",
    },
    "priority": {
        "社区卫生服务中心（站）": "community_health", "社区卫生服务中心": "community_health",
        "一体化村卫生室": "integrated_village_clinic",
        "高等院校内设医疗机构": "university_clinic",
        "养老机构内设医疗机构": "elderly_care_clinic",
    },
}

#: table key (``files:`` in scenario.yaml) → the sheet it is read from in an ``.xlsx`` workbook
#: when the file names no sheet (``规划数据.xlsx#机构名单`` names one); a workbook of one sheet
#: needs no name
SHEETS: dict[str, str] = {
    "census": "县区人口",
    "facilities": "机构名单",
    "targets": "规划目标",
    "county_quotas": "县区年度配置",
    "street_quotas": "街道年度配置",
    "fund": "基金运行",
}
#: the columns of each table, required first (a template writes them in this order)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "census": (("county", "population", "urban_share"), ("source",)),
    "facilities": (("facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
                    "status", "score"),
                   ("available_from", "protected", "compliant", "speciality", "exempt",
                    "priority", "moves_from")),
    "targets": (("county", "kind"), ()),  # then existing_<base year>, target_<year>…
    "county_quotas": (("county", "kind", "year", "admit", "exit"), ()),
    "street_quotas": (("county", "street", "kind", "year", "admit", "exit"), ()),
    "fund": (("year", "balance_last_year", "balance_projected", "months_payable",
              "months_required", "warning_letter"), ("source",)),
}

#: yes/no cells: every spelling → True/False (an empty cell is False)
BOOLEANS: dict[str, bool] = {
    "1": True, "true": True, "yes": True, "y": True, "是": True, "有": True, "√": True,
    "0": False, "false": False, "no": False, "n": False, "否": False, "无": False, "": False,
}

_YEAR_COLUMN = re.compile(r"^(\d{4})年?(现有|存量|中期目标|目标|规划)(数)?$")
_UNIT = re.compile(r"[（(][^）)]*[）)]$")


def normalise(heading: str) -> str:
    """A heading as compared: NFKC (full-width → ASCII), runs of spaces as one, lower case."""
    text = unicodedata.normalize("NFKC", str(heading)).strip()
    return re.sub(r"\s+", " ", text).lower()


_BY_NAME = {normalise(a): code for code, names in COLUMNS.items() for a in (code, *names)}


def column_code(heading: str) -> str | None:
    """The column code a heading stands for, or None when it is not a known column."""
    text = normalise(heading)
    for candidate in (text, _UNIT.sub("", text).strip(), text.replace(" ", "")):
        if candidate in _BY_NAME:
            return _BY_NAME[candidate]
        m = _YEAR_COLUMN.match(candidate.replace(" ", ""))
        if m:
            return ("existing_" if m.group(2) in ("现有", "存量") else "target_") + m.group(1)
        if re.fullmatch(r"(existing|target)_\d{4}", candidate):
            return candidate
    for token in text.split(" "):  # a bilingual heading: 机构编码 facility_id
        if token in _BY_NAME:
            return _BY_NAME[token]
    return None


_BY_VALUE = {col: {unicodedata.normalize("NFKC", k): v for k, v in table.items()}
             for col, table in VALUES.items()}


def value_code(column: str, value: str) -> str:
    """A coded cell in its code (诊所 → clinic for ``kind``); other text as given."""
    table = _BY_VALUE.get(column)
    if not table:
        return value
    return table.get(unicodedata.normalize("NFKC", value).strip(), value)
