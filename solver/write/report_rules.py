"""The rules a plan was solved under, in a planner's words, read from its own scenario.

The report's 规划依据与规则 section is not fixed text: each row is written from the scenario
file the plan was solved with (:class:`dingdian.scenario.schema.ScenarioConfig`) and from the
plan folder's ``summary.json``, so a Heze run says 800 米, its fund gate and its exemptions, a
Zhangye run its special zones and pharmacy roles, and a variant its own radius and overrides.
A rule the scenario does not switch on is not listed.

* :func:`rule_rows` — ``(规则, 说明)`` rows, in the order a planner reads them;
* :func:`override_rows` — the scenario's row-level overrides (情景调整), one row each;
* :func:`target_word` — 目标 (the plan's figures, met exactly) or 上限 (caps, at most).
"""

from __future__ import annotations

from collections.abc import Iterable

from dingdian.scenario.schema import CATEGORY_ZH, ScenarioConfig

KIND_SHORT = {"clinic": "定点医疗机构", "pharmacy": "定点零售药店"}
ROLE_ZH = {"chronic": "门诊慢特病统筹药店", "dual": "“双通道”药店", "pooling": "门诊统筹药店"}


def target_word(cfg: ScenarioConfig | None) -> str:
    """目标 when the plan's 2028/2030 figures are met exactly, 上限 when they are caps."""
    return "上限" if cfg is not None and cfg.options.target_mode == "at_most" else "目标"


def _m(x: float) -> str:
    """A distance as printed: ``1060.82米``, ``800米``."""
    return f"{x:g}米"


def _years(ys: Iterable) -> str:
    ys = [str(y) for y in ys]
    return "、".join(f"{y}年" for y in ys) if ys else "无"


def _table_list(cfg: ScenarioConfig, level: str) -> str:
    names = [cfg.table_names.get(f"{level}_{k}") for k in ("clinic", "pharmacy")]
    names = [n for n in names if n]
    return "、".join(names) if names else ("县区年度限额表" if level == "county" else "街道年度限额表")


def _flow_rows(cfg: ScenarioConfig, summary: dict, streets: list[str]) -> list[tuple[str, str]]:
    o = cfg.options
    word = target_word(cfg)
    rows = [("规划期", f"以{cfg.base_year}年末为基期，逐年规划{cfg.years[0]}—{cfg.years[-1]}年。"),
            ("机构增减", "每年定点数 = 上年定点数 + 当年准入 − 当年退出；已有定点机构起始为定点，"
                     "申请机构起始为非定点；退出的机构规划期内不再准入。")]
    if o.target_mode == "equal":
        rows.append((f"规划{word}", "各县区每类机构2028年末（中期）、2030年末定点数等于规划数。"))
    else:
        rows.append((f"规划{word}", "各县区每类机构2028年末、2030年末定点数不超过规划上限"
                                   "（情景设定：上限而非必须达到的数量）。"))
    mode = {"at_most": "不超过", "exact": "恰好等于"}
    rows.append(("年度准入、退出", f"每年各县区准入数{mode[o.admit_mode]}、退出数{mode[o.exit_mode]}"
                               f"{_table_list(cfg, 'county')}所列数量。"))
    if o.street_quotas and streets:
        rows.append(("街道限额", f"{'、'.join(streets)}各街道同样执行{_table_list(cfg, 'street')}"
                              "的年度数量；街道以外的机构分享县区剩余额度。"))
    return rows


def _coverage_rows(cfg: ScenarioConfig, summary: dict) -> list[tuple[str, str]]:
    g = cfg.grid
    text = (f"全域划分为六边形服务圈：城区服务圈外接圆半径{_m(g.urban_radius_m)}（15分钟医保服务圈），"
            f"农村{_m(g.rural_radius_m)}。{cfg.base_year}年已覆盖的有人口服务圈每年保持覆盖。")
    if g.rural_pharmacy_exempt:
        text += f"农村定点零售药店覆盖要求不适用于{'、'.join(g.rural_pharmacy_exempt)}。"
    rows = [("服务圈", text)]
    blind = (summary.get("blind_spots_definition") or {}).get("definition_zh")
    if blind:
        rows.append(("服务盲区", f"{blind}。只有申请机构可达的盲区为可填补盲区，优先填补；"
                              "无任何机构可达的盲区如实报告。"))
    text_def = (summary.get("blind_spots_text") or {}).get("definition_zh")
    if text_def:
        rows.append(("服务覆盖盲区（按规划原文）", f"{text_def}，与服务圈口径并列报告。"))
    return rows


def _protection_rows(cfg: ScenarioConfig) -> list[tuple[str, str]]:
    if not cfg.protected_categories:
        return [("不退出机构", "情景未设定受保护类别；仅机构名单中标注“保护”的机构不退出。")]
    by_basis: dict[str, list[str]] = {}  # categories sharing a sentence are named together
    for c in cfg.protected_categories:
        by_basis.setdefault(cfg.protected_basis.get(c, "情景设定"), []).append(CATEGORY_ZH.get(c, c))
    parts = [f"{'、'.join(cats)}（{basis}）" for basis, cats in by_basis.items()]
    return [("不退出机构", "；".join(parts) + "不退出；机构名单中标注“保护”的机构同样不退出。")]


def _heze_rows(cfg: ScenarioConfig, summary: dict, columns: set[str]) -> list[tuple[str, str]]:
    r = cfg.rules
    rows = []
    if r.near_radius_m:
        when = ("当年初已定点的机构（即使当年退出）和当年新准入的机构都计算在内" if r.near_timing == "start"
                else "只计算当年末仍为定点的机构")
        same = "同类型（医疗机构或零售药店）" if r.near_type == "kind" else "同一机构类别"
        rows.append((f"{_m(r.near_radius_m)}规则", f"申请机构周边{_m(r.near_radius_m)}范围内已有{same}"
                     f"定点医药机构的，不新增定点；{when}。"))
    if r.fund_gate and cfg.files.fund:
        gate = summary.get("fund_gate") or []
        shut = [g["year"] for g in gate if not g.get("open", True)]
        rows.append(("基金风险", "医保基金出现风险的年度，全市暂不新增规划指标。"
                     + (f"本方案中{_years(shut)}暂停新增。" if shut else "本方案各年度基金均未触发暂停。")))
    if r.exempt and "exempt_rule" in columns:
        rows.append(("不受规划限制", "重点建设项目、基层医疗卫生机构及规定日期前已运营的机构按名单"
                                   "“豁免”列办理，不占年度数量。"))
    if r.priority and "priority_class" in columns:
        rows.append(("优先纳入", f"社区卫生服务中心（站）、一体化村卫生室、高校及养老机构内设医疗机构等"
                               f"优先纳入（每家加{cfg.weights.priority}分）。"))
    if r.moves and "moves_from" in columns:
        rows.append(("跨区迁移", "跨医保管理区域变更注册地址的机构按迁出、迁入处理。"))
    if r.bed_pause_outpatient:
        rows.append(("床位测算暂停", "床位测算值触发暂停的年度，同时暂停门诊定点医疗机构的新增准入。"))
    if r.pass_mark is not None:
        where = "不占" if r.pass_mark_exits == "outside" else "计入"
        rows.append(("考核及格线", f"当年考核得分低于{r.pass_mark}分的机构当年退出，{where}年度退出数量。"))
    return rows


def _allocation_rows(cfg: ScenarioConfig, summary: dict) -> list[tuple[str, str]]:
    a = cfg.allocation
    alloc = summary.get("allocation") or {}
    rows = []
    if a.sequencing is not None and a.sequencing.enabled:
        n = len(alloc.get("sequencing") or [])
        rows.append(("先退后进", "定点数超过规划数的县区，当年完成退出计划后方受理新增申请"
                     + (f"（本方案涉及{n}个县区年度）" if n else "") + "；"
                     + ("服务盲区开辟准入“绿色通道”。" if a.sequencing.green_channel else "")))
    if a.zones is not None and a.zones.enabled:
        z = a.zones
        kinds = "、".join(KIND_SHORT[k] for k in z.kinds)
        budget = (f"每县区每年至多{z.budget_per_year}家可超出年度数量准入" if z.budget_per_year
                  else "不列入年度准入计划，列为“特殊区域准入建议”，需专家论证并批准")
        rows.append(("特殊区域", f"服务覆盖盲区（{_m(z.blind_radius_m)}内无{kinds}）与购药高需求区域"
                     f"（医疗机构周边{_m(z.demand_radius_m)}内{kinds}不多于{z.demand_max}家）"
                     f"的申请机构：{budget}。"))
    if a.roles is not None and a.roles.enabled:
        parts = []
        for key in ("chronic", "dual", "pooling"):
            role = getattr(a.roles, key)
            if role is None:
                continue
            if role.residents:
                parts.append(f"{ROLE_ZH[key]}按服务人口{role.residents[0] // 10000}万—"
                             f"{role.residents[1] // 10000}万人配置1家")
            elif role.min:
                parts.append(f"{ROLE_ZH[key]}每个县区至少{role.min}家")
        if parts:
            mark = f"，承担机构考核得分不低于{a.roles.min_score}分" if a.roles.min_score else ""
            rows.append(("药店功能定位", "；".join(parts) + mark + "。"))
    if a.priorities is not None and a.priorities.enabled:
        p, w = a.priorities, cfg.weights
        parts = []
        if p.remote:
            parts.append(f"服务盲区及农村偏远乡镇的申请（每家加{w.remote}分）")
        if p.speciality:
            parts.append(f"精神、儿童、护理等紧缺专科（每家加{w.speciality}分）")
        if p.chain:
            where = "到农村偏远地区的" if p.chain == "remote" else ""
            parts.append(f"{where}连锁药店（每家加{w.chain}分）")
        if parts:
            rows.append(("优先受理", "优先受理" + "；".join(parts) + "。"))
    return rows


def _objective_row(cfg: ScenarioConfig) -> tuple[str, str]:
    w = cfg.weights
    return ("择优原则", f"首先尽量填补服务盲区（每人每年{w.coverage}分）；退出时按考核分由低到高"
                    f"（末位淘汰）；准入时按评审分由高到低（择优准入）；每次准入或退出计{w.churn}分稳定"
                    "成本，避免不必要的变动；各年度变动尽量均衡。多个方案同样最优时，按评审分和年份"
                    "确定唯一方案。")


def rule_rows(cfg: ScenarioConfig, summary: dict, *, streets: Iterable[str] = (),
              columns: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The rules of the plan as ``(规则, 说明)`` rows, from the scenario ``cfg`` it was solved
    with and its ``summary.json``; ``streets`` names the counties with street tables and
    ``columns`` are plan.csv's columns (a rule whose column is absent is not in force)."""
    columns = set(columns)
    rows = _flow_rows(cfg, summary, list(streets))
    rows += _coverage_rows(cfg, summary)
    rows += _protection_rows(cfg)
    rows += _heze_rows(cfg, summary, columns)
    rows += _allocation_rows(cfg, summary)
    rows.append(_objective_row(cfg))
    rows.append(("复核", "求解后仅凭输出的 plan.csv 重新核算全部规则（增减路径、目标、年度数量、"
                       "保护、覆盖）" + ("，全部通过。" if (summary.get("verification") or {})
                                       .get("passed") else "。")))
    return rows


def override_rows(cfg: ScenarioConfig) -> list[tuple[str, str]]:
    """The scenario's row-level overrides (情景调整) as ``(对象, 调整)`` rows."""
    o = cfg.overrides
    rows = []
    for t in o.targets:
        vals = "，".join(f"{k.split('_')[1]}年{'目标' if k.startswith('target') else '现有'}"
                        f"{v}家" for k, v in t.values().items())
        rows.append((f"{t.county} {KIND_SHORT[t.kind]}", vals))
    for q in (*o.county_quotas, *o.street_quotas):
        where = f"{q.county}{getattr(q, 'street', '')}"
        vals = "，".join(f"{'准入' if k == 'admit' else '退出'}{v}家" for k, v in q.values().items())
        rows.append((f"{where} {KIND_SHORT[q.kind]} {q.year}年", vals))
    for f in o.facilities:
        vals = []
        if f.score is not None:
            vals.append(f"考核分改为{f.score}")
        if f.protected is not None:
            vals.append("设为保护" if f.protected else "取消保护")
        rows.append((f"机构 {f.facility_id}", "，".join(vals)))
    return rows
