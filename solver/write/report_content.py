"""The content of a plan's report: summary, coverage, county and blind-spot frames, captions.

What ``report.xlsx`` (:mod:`dingdian.write.report_xlsx`) and ``report.html``
(:mod:`dingdian.write.report_html`) both show, from a plan folder read into a
:class:`ReportInput` (:func:`dingdian.write.report.read_output`): the 摘要 rows, the
coverage and blind-spot tables of ``summary.json``, the per-county counts against the targets,
the model's assumptions (假设) and the maps' captions, with the value formatting they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dingdian.write.maps import KIND_ZH

CITY = "全市"

#: the model's assumptions, as a planner reads them (docs/model.md, "The model in brief")
_ASSUMPTIONS = [
    ("流量 Flow", "每年定点 = 上年定点 + 准入 − 退出；已有机构起始为定点，申请机构起始为非定点；"
     "退出的机构不再准入。"),
    ("目标 Targets (表2/表3)", "各县区每类机构2028年末、2030年末定点数等于规划数（或按情景设为“不超过”）。"),
    ("县区限额 County quotas (表6/表7)", "每年准入、退出不超过公布数（可设为恰好等于）。"),
    ("街道限额 Street quotas (表8/表9)", "甘州区各街道同样适用；街道外机构分享县区剩余额度。"),
    ("服务圈 Coverage", "城区六边形外接圆半径1060.82米（15分钟步行），诊所与药店均需覆盖；农村2121.64米"
     "（30分钟），需覆盖药店，肃南县除外。2024年已覆盖的有人口服务圈每年都保持覆盖。"),
    ("服务盲区 Blind spots", "仅申请机构可达的服务圈为可填补盲区，计入目标函数；无人可达的服务圈报告为盲区，"
     "不导致无解。"),
    ("一圈一家 One per cell", "城区服务圈内第一家以外的机构计罚分，而非禁止。"),
    ("保护 Protected", "村卫生室、社区卫生服务中心及情景标注机构不退出。"),
    ("目标函数 Objective", "加权和：填补盲区（每人每年10分）优先；退出按考核分末位淘汰；准入按评审分择优；"
     "每次变动5分的稳定成本；最繁忙年份每次变动3分，使变动在年度间均衡。"),
    ("校验 Verification", "求解后仅凭 plan.csv 重新核算全部规则（路径、目标、限额、保护、覆盖）。"),
]


@dataclass
class ReportInput:
    """A plan folder, read."""

    out: Path
    summary: dict
    counts: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    scenario: Path | None
    maps: dict[str, Path] = field(default_factory=dict)
    map_fragment: str = ""


def fmt(v) -> str:
    """A value as the report shows it: thousands separators, 是/否, ``-`` when missing."""
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v == int(v) and abs(v) >= 1:
            return f"{int(v):,}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def cell(v):
    """A value typed for a sheet: numbers held in strings become numbers, missing None."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            try:
                return float(s) if s and s.lower() not in ("nan", "inf", "-inf") else v
            except ValueError:
                return v
    return v


def summary_rows(s: dict) -> list[tuple[str, object]]:
    """(label, value) pairs of the 摘要 section; values as they are (numbers stay numbers; the
    HTML formats them with :func:`fmt`, the workbook with number formats)."""
    sc = s.get("scenario") or {}
    ver = s.get("verification") or {}
    size = s.get("model_size") or {}
    rows = [
        ("规划 plan", sc.get("title") or sc.get("name") or "-"),
        ("情景 scenario", f"{sc.get('name', '-')} ({sc.get('path', '-')})"),
        ("求解器 solver", s.get("solver")),
        ("状态 status", s.get("status")),
        ("目标值 objective", s.get("objective")),
        ("界 bound", s.get("bound")),
        ("间隙 gap", s.get("gap")),
        ("建模/求解秒 build/solve s", f"{fmt(s.get('build_seconds'))} / "
                                       f"{fmt(s.get('solve_seconds'))}"),
        ("变量/约束 variables/constraints", f"{fmt(size.get('variables'))} / "
                                            f"{fmt(size.get('constraints'))}"),
        ("校验 verified", ver.get("passed")),
        ("违规数 violations", len(ver.get("violations") or [])),
    ]
    for k, v in (s.get("objective_terms") or {}).items():
        rows.append((f"目标分项 {k}", v))
    for sec in ("beds", "nursing", "street_split", "basic_set", "indices"):
        if isinstance(s.get(sec), dict) and s[sec].get("headline"):
            rows.append((f"{sec}", s[sec]["headline"]))
    if s.get("synthetic_data"):
        rows.append(("数据说明 note", s.get("note") or "含合成数据 synthetic data"))
    rows.append(("生成 created", f"{s.get('created_utc', '-')} dingdian {s.get('dingdian_version', '')}"))
    return rows


def coverage_frame(s: dict) -> pd.DataFrame:
    rows = []
    for kind, per_year in (s.get("coverage") or {}).items():
        for y, c in per_year.items():
            share = c.get("population_covered_share")
            rows.append({"类别": KIND_ZH.get(kind, kind), "年份": str(y),
                         "覆盖人口": c.get("population_covered"),
                         "服务圈内人口": c.get("population_in_scope"),
                         "覆盖率": f"{share:.1%}" if share is not None else "-",
                         "必保服务圈": c.get("must_cover_cells"),
                         "已覆盖必保服务圈": c.get("must_cover_covered"),
                         "可填补盲区": c.get("gain_cells"),
                         "已填补盲区": c.get("gain_cells_filled")})
    return pd.DataFrame(rows)


def county_frame(counts: pd.DataFrame, summary: dict, kind: str) -> pd.DataFrame:
    """Per county: designated per year, the 2028/2030 targets, admissions and exits."""
    c = counts[(counts["kind"] == kind) & (counts["street"] == "")]
    years = sorted(c["year"].unique())
    piv = c.pivot_table(index="county", columns="year", values="designated", aggfunc="sum",
                        sort=False)
    order = list(dict.fromkeys(c["county"]))
    piv = piv.reindex(order)
    out = pd.DataFrame({"县区": order})
    for y in years:
        out[f"{y}年定点"] = piv[y].astype(int).to_numpy()
    targets = {(t.get("county"), t.get("kind")): t for t in summary.get("targets") or []}
    for ty in (2028, 2030):
        if any(f"target_{ty}" in t for t in targets.values()):
            vals = []
            for county in order:
                t = targets.get((county, kind))
                if t is None and county == CITY:
                    ts = [v.get(f"target_{ty}") for (_, k), v in targets.items() if k == kind]
                    vals.append(sum(int(x) for x in ts if x is not None) if ts else None)
                else:
                    vals.append(None if t is None else t.get(f"target_{ty}"))
            out[f"{ty}年目标"] = vals
    sums = c.groupby("county", sort=False)[["admitted", "exited"]].sum().reindex(order)
    out["准入合计"] = sums["admitted"].astype(int).to_numpy()
    out["退出合计"] = sums["exited"].astype(int).to_numpy()
    return out


def _last(b: dict, what: str):
    """``uncovered_<what>_<last year>`` of a blind-spot section, whatever the last year."""
    keys = sorted(k for k in b if k.startswith(f"uncovered_{what}_"))
    return b.get(keys[-1]) if keys else None


def blind_frame(s: dict) -> pd.DataFrame:
    """Blind spots by the cell-radius definition per kind, then by the text's (五(二)2), each
    row labelled with its definition."""
    rows = []
    label = (s.get("blind_spots_definition") or {}).get("definition_zh", "服务盲区（服务圈）")
    for kind, b in (s.get("blind_spots") or {}).items():
        rows.append({"类别": KIND_ZH.get(kind, kind), "定义": label,
                     "无人可达盲区(个)": b.get("cells"), "盲区人口": b.get("population"),
                     "末年未覆盖服务圈(个)": _last(b, "cells"),
                     "末年未覆盖人口": _last(b, "population")})
    text = s.get("blind_spots_text")
    if text:
        rows.append({"类别": KIND_ZH.get(text.get("kind"), text.get("kind")),
                     "定义": text.get("definition_zh"), "无人可达盲区(个)": None,
                     "盲区人口": None, "末年未覆盖服务圈(个)": _last(text, "cells"),
                     "末年未覆盖人口": _last(text, "population")})
    return pd.DataFrame(rows, dtype=object)


MAP_CAPTIONS = {
    "density": "{kind}热点分布图（附件8）：规划前后定点机构密度",
    "coverage": "{year}年{kind}服务圈覆盖与服务盲区",
}


def map_caption(key: str) -> str:
    parts = key.split("_")
    kind = KIND_ZH.get(parts[1], parts[1])
    if parts[0] == "density":
        return MAP_CAPTIONS["density"].format(kind=kind)
    return MAP_CAPTIONS["coverage"].format(kind=kind, year=parts[2])


def assumption_rows(inp: ReportInput) -> list[tuple[str, str]]:
    """(rule, explanation) rows of the 模型假设 section, from the scenario the plan was run on."""
    return list(_ASSUMPTIONS)
