"""Heze's beds rule (菏泽 二(一), 术语解释), every year: ``plan_heze(path, cfg)`` → ``beds``.

二(一)1 speaks of 当年度: "当全市测算值 < 目标值和实际值时 … 暂停全市当年度医疗机构新增医保定点的受理和
评估". The rule is therefore evaluated in every year of the beds file's ``years``, each from that
year's figures (:func:`dingdian.scenario.beds.heze_years`: a year's own ``by_year`` figures over
the top-level ones, which are ``year``'s). A ``pause`` year gets no new inpatient designation
(住院定点): its ``added`` is 0 in every county; an ``allocate`` year places its new designated
beds county by county (:func:`dingdian.models.beds.allocate_new_beds`); a ``hold`` year does
neither. Whether the pause reaches the outpatient clinics of the site model too is the
scenario switch ``rules.bed_pause_outpatient`` (:mod:`dingdian.models.site` (17)).

Outputs (names and columns as before, columns added):

* ``beds.csv`` — one row per county and evaluation year, with ``branch`` (pause, allocate,
  hold) and ``paused`` (1: no new inpatient designation that year) added;
* ``tables/床位测算.csv`` — 项目, 县区, 数值, 说明 and ``年份``: the inputs, the branch and the
  allocation of each year, then a row 住院定点新增 per year (暂停 paused or 受理 open);
* the summary — ``figures`` and ``branch`` of ``year`` as before, and ``by_year``,
  ``branches`` and ``paused_years`` for every year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dingdian.models import beds as mb
from dingdian.planners.beds_check import check_heze
from dingdian.result import ExtraResult
from dingdian.scenario.beds import HezeBeds, HezeYearInputs, heze_years

TH = "tables/床位测算.csv"
BRANCH_WORDS = {"pause": "二(一)1 暂停新增定点受理", "allocate": "二(一)2 分县区配置",
                "hold": "介于目标值与实际值之间：规划未规定"}


def plan_heze(path: Path, cfg: HezeBeds) -> ExtraResult:
    """The need, the branch and the allocation of every evaluation year (module docstring)."""
    years = heze_years(path, cfg)
    frames, tables, by_year, violations, notes = [], [], {}, [], []
    for inputs in years:
        figures, frame = _year(cfg, inputs)
        by_year[inputs.year] = figures
        frames.append(frame)
        tables.append(heze_table(inputs.ages, frame, figures).assign(年份=inputs.year))
        violations += [f"{inputs.year}: {v}" for v in check_heze(inputs.ages, frame, figures)]
        notes.append(f"{inputs.year}: " + _branch_note(figures))
        if figures["branch"] == mb.ALLOCATE and figures["placed"] < figures["new_beds"]:
            notes.append(f"{inputs.year}: {figures['new_beds'] - figures['placed']} beds could "
                         "not be placed: no county is eligible")
    frame = pd.concat(frames, ignore_index=True)
    table = pd.concat(tables, ignore_index=True)
    paused = [y for y, f in by_year.items() if f["branch"] == mb.PAUSE]
    notes += _carried_notes(cfg, years)
    first = by_year.get(cfg.year, by_year[years[0].year])
    notes += _input_notes(cfg, years[0])
    summary = {
        "kind": "heze", "branch": first["branch"], "status": "computed", "figures": first,
        "by_year": {str(y): f for y, f in by_year.items()},
        "branches": {str(y): f["branch"] for y, f in by_year.items()},
        "paused_years": paused, "notes": notes, "verified": not violations,
    }
    computed = ", ".join(f"{y} {f['computed']:.2f}" for y, f in by_year.items())
    summary["headline"] = (
        f"床位 beds: 测算值 computed {computed} per thousand vs 目标值 target "
        f"{cfg.target_per_thousand} and 实际值 actual {first['actual']:.2f} → "
        + (f"pause in {', '.join(map(str, paused))} (暂停当年度新增住院定点)" if paused
           else "no pause")
        + ("" if len(paused) == len(by_year) else "; "
           + ", ".join(f"{y} {f['branch']}" for y, f in by_year.items() if y not in paused)))
    return ExtraResult(name="beds", files={"beds.csv": frame, TH: table},
                       sheets={"床位测算": table}, summary=summary, violations=violations)


def _year(cfg: HezeBeds, y: HezeYearInputs) -> tuple[dict, pd.DataFrame]:
    """One year's figures and its ``beds.csv`` rows."""
    ages, counties, d, fm = y.ages, y.counties, y.discharges, y.fund_months
    f = y.figures(cfg.target_per_thousand)
    computed, actual, branch = f["computed"], f["actual"], f["branch"]
    weights = {r.county: (r.population, r.occupancy) for r in counties.itertuples()}
    alloc = mb.allocate_new_beds(computed, actual, y.population_total, weights,
                                 target=cfg.target_per_thousand, outside=cfg.outside_allocation,
                                 min_occupancy=cfg.min_occupancy)
    need = mb.new_bed_total(computed, actual, y.population_total) if branch == mb.ALLOCATE else 0
    outside = counties["county"].isin(cfg.outside_allocation).astype(int)
    eligible = ((outside == 0) & (counties["occupancy"] >= cfg.min_occupancy)).astype(int)
    frame = pd.DataFrame({
        "county": counties["county"], "hospital_id": "", "name": "", "level": "",
        "year": y.year, "beds": counties["actual_beds"], "cut": 0,
        "added": counties["county"].map(alloc).astype(int), "to_nursing": 0,
        "occupancy": counties["occupancy"], "population": counties["population"],
        "per_thousand": (counties["actual_beds"] * 1000 / counties["population"].where(
            counties["population"] > 0)).round(4),
        "outside_allocation": outside, "eligible": eligible,
        "branch": branch, "paused": int(branch == mb.PAUSE),
    })
    figures = {
        "year": y.year, "admissions": float((ages["admission_rate"] * ages["insured"]).sum()),
        "total_insured": int(ages["insured"].sum()), "avg_stay_days": y.avg_stay_days,
        "occupancy": y.occupancy, "discharges": d.model_dump(), "fund_months": fm.model_dump(),
        "patient_coefficient": f["patient_coefficient"],
        "fund_coefficient": f["fund_coefficient"], "computed": computed,
        "target": cfg.target_per_thousand, "actual": actual,
        "actual_beds": int(counties["actual_beds"].sum()),
        "population_total": y.population_total, "branch": branch, "paused": branch == mb.PAUSE,
        "new_beds": need, "placed": int(frame["added"].sum()),
        "allocation": {k: int(v) for k, v in alloc.items()},
        "outside_allocation": list(cfg.outside_allocation), "min_occupancy": cfg.min_occupancy,
        "own_figures": list(y.own),
    }
    return figures, frame


def _branch_note(f: dict) -> str:
    computed, target, actual = f["computed"], f["target"], f["actual"]
    return {
        mb.PAUSE: f"测算值 {computed:.4f} < 目标值 {target} and < 实际值 {actual:.4f}: 二(一)1 — "
                  "暂停全市当年度医疗机构新增医保定点的受理和评估 (no new inpatient designation)",
        mb.ALLOCATE: f"测算值 {computed:.4f} > 目标值 {target} and > 实际值 {actual:.4f}: 二(一)2 — "
                     f"{f['new_beds']} new designated beds, {f['placed']} placed by county "
                     "(population × occupancy, largest remainder)",
        mb.HOLD: f"测算值 {computed:.4f} lies between 目标值 {target} and 实际值 {actual:.4f} (or "
                 "equals one): neither 二(一)1 nor 二(一)2 applies — no pause is ordered and no "
                 "beds are allocated",
    }[f["branch"]]


def _carried_notes(cfg: HezeBeds, years: list[HezeYearInputs]) -> list[str]:
    """Which years take which figures from ``year`` (no figures of their own in ``by_year``)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for y in years:
        if y.year != cfg.year:
            groups.setdefault(y.own, []).append(y.year)
    return [f"{', '.join(map(str, ys))}: "
            + (f"own figures {', '.join(own)} (by_year); the others are " if own
               else "no figures of their own (by_year): all are ")
            + f"the {cfg.year} figures" for own, ys in groups.items()]


def _input_notes(cfg: HezeBeds, y: HezeYearInputs) -> list[str]:
    notes = []
    county_pop = int(y.counties["population"].sum())
    if county_pop != y.population_total:
        notes.append(f"county populations add up to {county_pop:,}, the city total is "
                     f"{y.population_total:,}: county figures serve as allocation weights only")
    if cfg.synthetic:
        notes.append("synthetic inputs: the branch illustrates the rule, it is not an official "
                     "Heze result")
    if cfg.outside_allocation:
        notes.append("outside the county allocation (结合实际情况确定): "
                     + ", ".join(cfg.outside_allocation))
    return notes


def heze_table(ages: pd.DataFrame, frame: pd.DataFrame, f: dict) -> pd.DataFrame:
    """One year of ``tables/床位测算.csv``: 项目, 县区, 数值, 说明."""
    rows = [("住院率×参保人数", "", float(r.admission_rate * r.insured),
             f"{r.age_band}: {r.admission_rate} × {r.insured}") for r in ages.itertuples()]
    d = f["discharges"]
    rows += [
        ("总参保人数", "", f["total_insured"], "Σ 年龄段参保人数"),
        ("平均住院日", "", f["avg_stay_days"], ""),
        ("病床使用率", "", f["occupancy"], ""),
        ("患者调节系数", "", f["patient_coefficient"],
         f"({d['local_local']} − {d['local_elsewhere']} + {d['elsewhere_local']}) ÷ "
         f"{d['local_local']}"),
        ("基金调节系数", "", f["fund_coefficient"],
         f"{f['fund_months']['payable']} ÷ {f['fund_months']['required']}"),
        ("测算值（张/千人）", "", f["computed"], "基本医保需要千人床位数"),
        ("目标值（张/千人）", "", f["target"], "二(一)"),
        ("实际值（张/千人）", "", f["actual"], f"{f['actual_beds']} 张 / {f['population_total']} 人"),
        ("判定", "", f["branch"], BRANCH_WORDS[f["branch"]]),
        ("新增定点床位（张）", "全市", f["new_beds"], "⌊(测算值 − 实际值) × 常住人口 / 1000⌋"),
    ]
    for r in frame.itertuples():
        why = ("结合实际情况确定" if r.outside_allocation else
               "" if r.eligible else f"床位使用率低于 {f['min_occupancy']}")
        rows.append(("新增定点床位（张）", r.county, int(r.added), why))
    rows.append(("住院定点新增", "全市", "暂停 paused" if f["branch"] == mb.PAUSE else "受理 open",
                 "二(一)1 暂停全市当年度医疗机构新增医保定点的受理和评估" if f["branch"] == mb.PAUSE
                 else ""))
    return pd.DataFrame(rows, columns=["项目", "县区", "数值", "说明"])
