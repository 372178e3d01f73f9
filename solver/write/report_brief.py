"""The report's first part, for a director: what changes, where, by when, what needs approval.

Everything here is computed from the plan folder (``counts.csv``, ``summary.json``) and the
scenario it was solved with; nothing is fixed text about one city. Plain language first; the
solver's figures are the technical appendix (:func:`appendix_rows`).

* :func:`headline` — one sentence per kind: base year → last year, admitted, exited;
* :func:`where_sentences` — the counties with the most admissions and exits, per kind;
* :func:`changes_by_year` — city-wide admissions and exits per year and kind (by when);
* :func:`changes_by_county` — per county: base, mid-term and final counts against the
  targets (目标) or caps (上限), admissions and exits (where);
* :func:`coverage_sentences` — population in reach and blind spots filled, base vs last year;
* :func:`approvals` — what the bureau must decide or approve before the plan is executed;
* :func:`appendix_rows` — solver, status, gap, objective terms, model size, run data.
"""

from __future__ import annotations

import pandas as pd

from dingdian.write.report_rules import KIND_SHORT

CITY = "全市"

#: the objective terms of dingdian.models.site and .allocation, as the appendix names them
TERM_ZH = {
    "8a_coverage": "8a 服务盲区未覆盖（人·年）", "8b_crowding": "8b 城区服务圈超过1家",
    "8c_exits": "8c 退出机构的考核分（末位淘汰）", "8d_admissions": "8d 准入机构的评审分（择优）",
    "8e_spread": "8e 年度变动均衡", "8f_priority": "8f 优先纳入类别",
    "8g_override": "8g 特殊区域超额准入", "8h_roles": "8h 药店功能定位",
    "8i_remote": "8i 盲区及偏远乡镇优先", "8j_speciality": "8j 紧缺专科优先",
    "8k_chain": "8k 连锁药店", "churn": "稳定成本",
}
STATUS_ZH = {"optimal": "最优解（已证明）", "feasible": "可行解（未证明最优）",
             "infeasible": "无可行解", "time_limit": "达到时间上限"}


def _city(counts: pd.DataFrame) -> pd.DataFrame:
    return counts[(counts["county"] == CITY) & (counts["street"] == "")]


def _years(counts: pd.DataFrame) -> list[int]:
    return sorted(int(y) for y in counts["year"].unique())


def headline(counts: pd.DataFrame) -> list[str]:
    """``至2030年，全市定点零售药店由 X 家调整为 Y 家：准入 A 家，退出 B 家。`` per kind."""
    city = _city(counts)
    years = _years(counts)
    out = []
    for kind, label in KIND_SHORT.items():
        c = city[city["kind"] == kind].set_index("year")
        if c.empty:
            continue
        first, last = int(c.loc[years[0], "designated"]), int(c.loc[years[-1], "designated"])
        adm, ex = int(c.loc[years[1:], "admitted"].sum()), int(c.loc[years[1:], "exited"].sum())
        change = "增加" if last > first else "减少" if last < first else "保持"
        diff = f"{change}{abs(last - first)}家" if last != first else "总数不变"
        out.append(f"至{years[-1]}年末，全市{label}由{years[0]}年末的{first}家调整为{last}家"
                   f"（{diff}）：准入{adm}家，退出{ex}家。")
    return out


def people(n) -> str:
    """A number of people as a report writes it: ``421.5万人`` from ten thousand up."""
    n = int(n or 0)
    return f"{n / 10000:.1f}万人" if n >= 10000 else f"{n}人"


def where_sentences(counts: pd.DataFrame, top: int = 3) -> list[str]:
    """Per kind, the counties with the most admissions and the most exits (where)."""
    c = counts[(counts["county"] != CITY) & (counts["street"] == "")]
    c = c[c["year"] > min(_years(counts))]
    out = []
    for kind, label in KIND_SHORT.items():
        sums = c[c["kind"] == kind].groupby("county", sort=False)[["admitted", "exited"]].sum()
        if sums.empty:
            continue
        parts = []
        for col, verb in (("admitted", "准入"), ("exited", "退出")):
            s = sums[col][sums[col] > 0].sort_values(ascending=False, kind="stable").head(top)
            if len(s):
                parts.append(f"{verb}最多的是" + "、".join(f"{k}（{int(v)}家）" for k, v in s.items()))
        if parts:
            out.append(f"{label}：" + "；".join(parts) + "。")
    return out


def changes_by_year(counts: pd.DataFrame) -> pd.DataFrame:
    """年度 × 类别: admissions, exits and the year-end count, city-wide."""
    city = _city(counts)
    rows = []
    for y in _years(counts)[1:]:
        row: dict = {"年度": f"{y}年"}
        for kind, label in KIND_SHORT.items():
            c = city[(city["kind"] == kind) & (city["year"] == y)]
            if c.empty:
                continue
            row[f"{label}准入"] = int(c["admitted"].iloc[0])
            row[f"{label}退出"] = int(c["exited"].iloc[0])
            row[f"{label}年末"] = int(c["designated"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def changes_by_county(counts: pd.DataFrame, summary: dict, kind: str,
                      word: str = "目标") -> pd.DataFrame:
    """Per county: base, 2028 and last-year counts, the plan's 2028/2030 figures (``word``:
    目标 or 上限), admissions and exits, and whether the figures are met (达到)."""
    c = counts[(counts["kind"] == kind) & (counts["street"] == "")]
    years = _years(counts)
    shown = [y for y in dict.fromkeys((years[0], 2028, years[-1])) if y in years]
    targets = {(t.get("county"), t.get("kind")): t for t in summary.get("targets") or []}
    rows = []
    for county in dict.fromkeys(c["county"]):
        cc = c[c["county"] == county].set_index("year")
        row: dict = {"县区": county}
        for y in shown:
            row[f"{y}年末"] = int(cc.loc[y, "designated"])
        row["准入"] = int(cc.loc[years[1:], "admitted"].sum())
        row["退出"] = int(cc.loc[years[1:], "exited"].sum())
        t = targets.get((county, kind))
        if county == CITY:
            ts = [v for (_, k), v in targets.items() if k == kind]
            t = {f"target_{y}": sum(int(v[f"target_{y}"]) for v in ts) for y in (2028, 2030)
                 if ts and all(v.get(f"target_{y}") is not None for v in ts)}
        ok = True
        for y in (2028, 2030):
            v = None if t is None else t.get(f"target_{y}")
            row[f"{y}年{word}"] = None if v is None else int(v)
            if v is not None and y in years:
                got = int(cc.loc[y, "designated"])
                ok &= got == int(v) if word == "目标" else got <= int(v)
        row["是否达到" if word == "目标" else "是否符合"] = "是" if ok else "否"
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)


def coverage_sentences(summary: dict) -> list[str]:
    """Population in reach of each kind, base vs last year, and the blind spots filled."""
    out = []
    for kind, per_year in (summary.get("coverage") or {}).items():
        ys = sorted(per_year, key=int)
        if not ys:
            continue
        a, b = per_year[ys[0]], per_year[ys[-1]]
        sa, sb = a.get("population_covered_share"), b.get("population_covered_share")
        if sa is None or sb is None:
            continue
        text = (f"{KIND_SHORT.get(kind, kind)}服务圈覆盖人口由{ys[0]}年的{sa:.1%}变为{ys[-1]}年的"
                f"{sb:.1%}（{people(b.get('population_covered'))}）")
        gain, filled = b.get("gain_cells"), b.get("gain_cells_filled")
        if gain:
            text += f"；可填补的{gain}个服务盲区中填补{filled}个"
        lost = (summary.get("blind_spots") or {}).get(kind) or {}
        if lost.get("cells"):
            text += f"；另有{lost['cells']}个服务圈（{people(lost.get('population'))}）无任何机构可达"
        out.append(text + "。")
    return out


def approvals(summary: dict, word: str, tables: list[str]) -> list[str]:
    """What the bureau must decide or approve, from what the plan contains."""
    out = [f"审定年度准入、退出计划（{'、'.join(tables) if tables else '年度计划表'}）；"
           "每年执行前按当年申请和考核结果复核。"]
    ver = summary.get("verification") or {}
    if summary.get("status") != "optimal":
        out.append(f"求解状态为“{STATUS_ZH.get(summary.get('status'), summary.get('status'))}”，"
                   "方案未证明最优，建议延长求解时间后再定稿。")
    if ver.get("checked") and not ver.get("passed"):
        out.append(f"复核发现{len(ver.get('violations') or [])}处不符合规则，方案不可直接使用。")
    zones = ((summary.get("allocation") or {}).get("special_zones") or {})
    props = zones.get("proposals") or {}
    if props.get("candidates"):
        out.append(f"特殊区域准入建议{props['candidates']}家（可新增覆盖{people(props.get('population'))}"
                   f"）未列入年度计划，需专家论证并批准后方可准入（见 {props.get('file', '')}）。")
    if zones.get("overrides"):
        out.append(f"特殊区域超出年度数量准入{len(zones['overrides'])}家，需专家论证并批准。")
    gate = summary.get("fund_gate") or []
    shut = [g for g in gate if not g.get("open", True)]
    if shut:
        out.append("基金风险：" + "；".join(f"{g['year']}年暂停新增（{_zh(g.get('reasons'))}）"
                                        for g in shut) + "。请确认当年基金运行情况。")
    beds = summary.get("beds") or {}
    if beds.get("paused_years"):
        out.append(f"床位：测算值低于目标值和实际值，{'、'.join(map(str, beds['paused_years']))}"
                   "年暂停住院定点医疗机构新增受理和评估。")
    if word == "上限":
        out.append("各县区2028年、2030年数量按上限执行（情景设定），如需按确定数量执行请调整情景。")
    return out


def _zh(text) -> str:
    """The Chinese words of a bilingual reason (``上一年度当期赤字 last year's deficit …; …``):
    each part's first token holding Chinese characters, the parts joined by ；."""
    parts = []
    for part in str(text or "").split(";"):
        words = [w for w in part.split() if any(ord(ch) > 0x2E80 for ch in w)]
        if words:
            parts.append(words[0])
    return "；".join(parts) or "原因见 summary.json"


def appendix_rows(summary: dict) -> list[tuple[str, object]]:
    """The technical appendix: solver, status, gap, objective and its terms, size, run data."""
    sc = summary.get("scenario") or {}
    size = summary.get("model_size") or {}
    ver = summary.get("verification") or {}
    path = str(sc.get("path") or "")
    rows: list[tuple[str, object]] = [
        ("情景", f"{sc.get('name', '-')}（{path.replace(chr(92), '/').split('/')[-1] or '-'}）"),
        ("求解器", summary.get("solver")),
        ("求解状态", STATUS_ZH.get(summary.get("status"), summary.get("status"))),
        ("目标函数值", summary.get("objective")),
        ("最优界", summary.get("bound")),
        ("相对间隙", summary.get("gap")),
        ("建模用时（秒）", summary.get("build_seconds")),
        ("求解用时（秒）", summary.get("solve_seconds")),
        ("变量数", size.get("variables")),
        ("约束数", size.get("constraints")),
        ("复核", "通过" if ver.get("passed") else ("未通过" if ver.get("checked") else "未复核")),
        ("方案唯一", {True: "是（已证明）", False: "否"}.get(summary.get("unique"), "未检验")),
    ]
    for st in summary.get("stages") or []:
        rows.append((f"求解阶段 {st.get('stage')}", f"{STATUS_ZH.get(st.get('status'), st.get('status'))}，"
                     f"{st.get('seconds', '-')}秒"))
    for k, v in (summary.get("objective_terms") or {}).items():
        rows.append((f"目标分项 {TERM_ZH.get(k, k)}", v))
    rows.append(("生成时间", f"{summary.get('created_utc', '-')}（dingdian "
                         f"{summary.get('dingdian_version', '')}）"))
    return rows


def _beds(b: dict) -> str | None:
    f = b.get("figures") or {}
    if b.get("kind") == "heze" and b.get("by_year"):
        per = "，".join(f"{y}年{v['computed']:.2f}" for y, v in sorted(b["by_year"].items()))
        last = b["by_year"][max(b["by_year"])]
        paused = b.get("paused_years") or []
        tail = (f"；{'、'.join(map(str, paused))}年测算值低于目标值和实际值，暂停新增住院定点"
                if paused else "")
        return (f"基本医保需要千人床位数测算值（张/千人）：{per}；目标值{last['target']:g}，"
                f"实际值{last['actual']:.2f}{tail}。")
    if "planned_total" in f:
        text = f"定点床位由现有{int(f.get('existing_tables', 0)):,}张调整为{int(f['planned_total']):,}张"
        if b.get("to_nursing"):
            text += f"，其中{int(b['to_nursing'])}张转为护理床位"
        return text + "（按各县区、各级别分配数核定）。"
    return None


def _nursing(n: dict) -> str | None:
    if "elderly_total" not in n:
        return None
    text = (f"{int(n.get('sites_total') or 0)}个居家护理服务点覆盖60岁以上老人"
            f"{people(n.get('elderly_covered'))}（共{people(n.get('elderly_total'))}，"
            f"{float(n.get('coverage_share') or 0):.1%}）")
    beds = n.get("beds") or {}
    if beds.get("planned_beds") is not None:
        text += (f"；机构护理床位{int(beds['planned_beds']):,}张，分布在{int(beds.get('institutions') or 0)}"
                 f"家机构，其中新增{int(beds.get('new_beds') or 0)}张、转换{int(beds.get('converted_beds') or 0)}张")
    return text + "。"


def _basic_set(b: dict) -> str | None:
    if not b.get("checked"):
        return None
    done, missing = b.get("complete") or [], b.get("missing") or {}
    text = f"{len(done)}个县区综合医院、中医类、妇幼保健机构配置齐全"
    if missing:
        text += "；尚缺：" + "；".join(f"{c}（{'、'.join(map(str, v))}）" for c, v in missing.items())
    return text + "。"


def _indices(ix: dict) -> str | None:
    parts = []
    for kind, per_year in (ix.get("kinds") or {}).items():
        if kind not in KIND_SHORT or not per_year:
            continue
        last = per_year[max(per_year)]
        above = last.get("above_population_share") or []
        if above:
            parts.append(f"{max(per_year)}年{KIND_SHORT[kind]}集聚度高于人口集聚度的县区："
                         + "、".join(above))
    return "；".join(parts) + "（明细见 indices.csv）。" if parts else None


def study_rows(summary: dict) -> list[tuple[str, str]]:
    """The studies beside the site model (beds, long-term care, basic set, indices), one
    sentence each in Chinese; the street split keeps its own headline."""
    rows = []
    for key, label, say in (("beds", "床位测算", _beds), ("nursing", "长期护理", _nursing),
                            ("basic_set", "基本配置（综合、中医、妇幼）", _basic_set),
                            ("indices", "集聚度与密度指数", _indices)):
        sec = summary.get(key)
        if isinstance(sec, dict):
            text = say(sec)
            if text:
                rows.append((label, text))
    split = summary.get("street_split")
    if isinstance(split, dict) and split.get("applied"):
        rows.append(("街道分配（人口90%+地理10%）", _street_split(split)))
    return rows


def _street_split(split: dict) -> str:
    how = {"published": "采用公布的街道数量", "derived": "按人口90%+地理10%测算街道数量"}
    parts = [f"{c}{how.get(str(a), str(a))}" for c, a in (split.get("applied") or {}).items()]
    diffs = []
    for kind, d in ((split.get("comparison") or {}).get("by_kind") or {}).items():
        for what, verb in (("admit", "准入"), ("exit", "退出")):
            x = d.get(what) or {}
            if x.get("cells"):
                diffs.append(f"{KIND_SHORT.get(kind, kind)}{verb}{x.get('cells_differing', 0)}/"
                             f"{x['cells']}个街道年度不同")
    text = "；".join(parts)
    if diffs:
        text += "。与人口90%+地理10%测算相比：" + "，".join(diffs)
    return text + "。"
