"""The allocation rules in the outputs, and their residual checks.

What :mod:`dingdian.models.allocation` decided, written where a planner reads it (nothing here when the
scenario has no ``allocation:`` section):

* plan.csv — ``special_zone`` (the zones an applicant lies in), ``approval`` (需专家论证 on an
  admission beyond the yearly limits, line by line), ``priority_tags``, ``speciality``,
  ``role_eligible`` and one ``role_<code>`` column per role: the years the pharmacy holds it
  (``2030``; the plan's target year);
* ``roles.csv`` — the holders of each role per county, with the number the county needs;
* decisions.csv — ``special_zone``, ``approval``, ``priority_tags`` and ``sequencing`` (the
  year's exits against the exit plan in an over-configured county), and the rule text of an
  override or priority admission;
* summary.json — ``allocation``: overrides, role holders, sequencing per county and year,
  admissions per priority tag.

:func:`residuals` recomputes (13)–(15) from plan.csv's columns in plain pandas, like
:mod:`dingdian.check.verify` does for (1)–(12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dingdian.models.data import SiteProblem
from dingdian.result import plan_flows
from dingdian.scenario.allocation import APPROVAL, FAVOUR_LABELS, ROLE_LABELS, ZONE_LABELS

ROLE_COLUMNS = ["县区 county", "角色 role", "年份 year", "机构编码 facility_id",
                "机构名称 name", "街道 street", "考核得分 score", "配置下限 min", "配置上限 max"]


def _text(col: pd.Series) -> pd.Series:
    return col.astype(object).where(col.notna(), "").astype(str)


def role_codes(frame: pd.DataFrame) -> list[str]:
    """The roles a plan or facilities frame carries (``role_eligible`` codes), in order."""
    if "role_eligible" not in frame:
        return []
    seen = {c for v in _text(frame["role_eligible"]) for c in v.split(";") if c}
    return [r for r in ROLE_LABELS if r in seen]


def plan_columns(plan: pd.DataFrame, facilities: pd.DataFrame, choices: dict | None) -> None:
    """Add the allocation columns to ``plan`` (in place; rows in ``facilities`` order)."""
    fac = facilities.reset_index(drop=True)
    choices = choices or {}
    ids = plan["facility_id"].astype(str)
    for col in ("special_zone", "priority_tags", "speciality", "role_eligible"):
        if col in fac:
            plan[col] = _text(fac[col]).to_numpy()
    if "special_zone" in fac:
        over = {fid for fid, _t in choices.get("overrides", ())}
        plan["approval"] = np.where(ids.isin(over), APPROVAL, "")
    for role in role_codes(fac):
        years: dict[str, list[str]] = {}
        for r, fid, t in choices.get("roles", ()):
            if r == role:
                years.setdefault(fid, []).append(str(t))
        plan[f"role_{role}"] = [";".join(years.get(fid, [])) for fid in ids]


def holders(plan: pd.DataFrame, role: str) -> list[tuple[str, int]]:
    """``(facility, year)`` pairs holding ``role`` per plan.csv's ``role_<role>`` column."""
    col = f"role_{role}"
    if col not in plan:
        return []
    values = plan[col]
    some = (values.notna() & (values.astype(object) != "")).to_numpy()  # most hold no role
    out = []
    for fid, years in zip(plan["facility_id"].astype(str)[some], values[some], strict=True):
        out += [(fid, int(float(y))) for y in str(years).split(";") if y.strip()]
    return out


def roles_frame(plan: pd.DataFrame, problem: SiteProblem) -> pd.DataFrame:
    """roles.csv: every holder of every role, per county, with the county's bounds."""
    rows = []
    by_id = plan.set_index(plan["facility_id"].astype(str))
    for need in problem.roles:
        for fid, year in holders(plan, need.role):
            f = by_id.loc[fid]
            if f["county"] != need.county or year != need.year:
                continue
            rows.append([need.county, ROLE_LABELS[need.role], year, fid, f.get("name", ""),
                         f.get("street", ""), int(f["score"]), need.low, need.high])
    frame = pd.DataFrame(rows, columns=ROLE_COLUMNS)
    frame["配置上限 max"] = frame["配置上限 max"].astype("Int64")
    return frame


def _exit_plan_rows(problem: SiteProblem) -> dict[tuple[str, str, int], int]:
    return {(p.county, p.kind, p.year): p.exits for p in problem.exit_plan}


def _held(problem: SiteProblem, fid: str) -> bool:
    """Whether (15) holds back ``fid``'s admission (not exempt, not on the green channel)."""
    f = problem._by_id.get(fid)
    if f is None:  # not in the scenario: check 1 reports it
        return True
    green = problem.green_channel and "blind" in f.zone.split(";")
    return not f.exempt and not green


def sequencing_table(plan: pd.DataFrame, problem: SiteProblem) -> pd.DataFrame:
    """Per over-configured county, kind and year: planned exits, exits, held admissions."""
    planned = _exit_plan_rows(problem)
    if not planned:
        return pd.DataFrame(columns=["county", "kind", "year", "planned_exits", "exits",
                                     "admissions", "done"])
    flows = _flows(plan)
    held = {fid: _held(problem, fid) for fid in flows["facility_id"].unique()}
    flows["held"] = flows["admitted"].where(flows["facility_id"].map(held).astype(bool), 0)
    sums = flows.groupby(["county", "kind", "year"])[["exited", "held"]].sum()
    sums = dict(zip(sums.index, sums.itertuples(index=False, name=None), strict=True))
    rows = []
    for (county, kind, year), n in sorted(planned.items()):
        exits, admissions = (int(v) for v in sums.get((county, kind, year), (0, 0)))
        rows.append({"county": county, "kind": kind, "year": year, "planned_exits": n,
                     "exits": exits, "admissions": admissions, "done": exits >= n})
    return pd.DataFrame(rows)


def _flows(plan: pd.DataFrame) -> pd.DataFrame:
    years = [c for c in plan.columns if str(c).isdigit()]
    d = plan.set_index(plan["facility_id"].astype(str))[years].astype(int)
    d.columns = [int(c) for c in years]
    flows = plan_flows(d)
    info = plan.set_index(plan["facility_id"].astype(str))[["county", "kind"]]
    return flows.merge(info, left_on="facility_id", right_index=True)


def annotate_decisions(frame: pd.DataFrame, plan: pd.DataFrame,
                       problem: SiteProblem) -> pd.DataFrame:
    """decisions.csv with the allocation rules where one of them acted (columns added)."""
    by_id = plan.set_index(plan["facility_id"].astype(str))
    fids = frame["facility_id"].astype(str)
    admitted = frame["decision_en"] == "admitted"
    frame = frame.copy()
    for col in ("special_zone", "approval", "priority_tags"):
        if col in by_id:
            frame[col] = np.where(admitted, fids.map(_text(by_id[col])).fillna(""), "")
    if "approval" in frame:
        over = frame["approval"] != ""
        _override_quotas(frame, over, problem)
        zones = frame.loc[over, "special_zone"]
        frame.loc[over, "rule_zh"] = ("需专家论证 特殊区域突破规划限制 (" + zones + "); "
                                      + frame.loc[over, "rule_zh"])
        frame.loc[over, "rule_en"] = ("expert approval needed: beyond the yearly limit in a "
                                      "special zone (" + zones + "); " + frame.loc[over, "rule_en"])
    if "priority_tags" in frame:
        ranked = admitted & frame["rule_zh"].str.startswith("择优准入") \
            & (frame["priority_tags"] != "")
        frame.loc[ranked, "rule_zh"] = "优先: " + frame.loc[ranked, "priority_tags"] + "; " \
            + frame.loc[ranked, "rule_zh"]
        frame.loc[ranked, "rule_en"] = "priority: " + frame.loc[ranked, "priority_tags"] \
            + "; " + frame.loc[ranked, "rule_en"]
    table = sequencing_table(plan, problem)
    if len(table):
        seq = {(r.county, r.kind, int(r.year)): r for r in table.itertuples(index=False)}
        texts = []
        for r in frame.itertuples(index=False):
            s = seq.get((r.county, r.kind, int(r.year)))
            if s is None:
                texts.append("")
                continue
            head = f"存量退出优先 exits first: {r.year}年退出 {s.exits}/{s.planned_exits}"
            if r.decision_en == "admitted" and not _held(problem, str(r.facility_id)):
                head += ", 绿色通道 green channel (服务覆盖盲区)"
            elif r.decision_en == "admitted":
                head += ", 完成后准入 admitted after the exits"
            texts.append(head)
        frame["sequencing"] = texts
    return frame


def _override_quotas(frame: pd.DataFrame, over: pd.Series, problem: SiteProblem) -> None:
    """Override admissions use the special-zone budget, not 表6–表9: the quota columns of the
    other admissions leave them out, theirs name the budget (in place)."""
    if not over.any():
        return
    adm = frame["decision_en"] == "admitted"
    street = frame["quota"].str.startswith(("表8", "表9"))
    area = frame["street"].where(street, frame["county"])
    key = list(zip(area, frame["kind"], frame["year"], strict=True))
    n_over = pd.Series([k for k, o in zip(key, over, strict=True) if o]).value_counts()
    counted = adm & ~over
    frame.loc[counted, "quota_used"] = [int(u) - int(n_over.get(k, 0)) for u, k in
                                        zip(frame.loc[counted, "quota_used"],
                                            pd.Series(key)[counted.to_numpy()], strict=True)]
    budget = {(b.county, b.kind, b.year): b.admit for b in problem.zone_budget}
    county_key = list(zip(frame["county"], frame["kind"], frame["year"], strict=True))
    used = pd.Series([k for k, o in zip(county_key, over, strict=True) if o]).value_counts()
    rows = over.to_numpy()
    frame.loc[over, "quota"] = [f"五(二)2 特殊区域 {c} {y}" for c, _k, y in
                                pd.Series(county_key)[rows]]
    frame.loc[over, "quota_used"] = [int(used[k]) for k in pd.Series(county_key)[rows]]
    frame.loc[over, "quota_limit"] = [budget.get(k, 0) for k in pd.Series(county_key)[rows]]


def summary(plan: pd.DataFrame, problem: SiteProblem) -> dict:
    """summary.json's ``allocation`` section (empty when the problem has no allocation data)."""
    out: dict = {}
    if "approval" in plan:
        over = plan[_text(plan["approval"]) != ""]
        out["special_zones"] = {
            "applicants_in_zones": {code: int(sum(code in f.zone.split(";")
                                                  for f in problem.facilities))
                                    for code in ZONE_LABELS},
            "budget": int(sum(b.admit for b in problem.zone_budget)),
            "overrides": [{"facility_id": r.facility_id, "county": r.county, "kind": r.kind,
                           "year": int(r.admitted_year), "zone": r.special_zone}
                          for r in over.itertuples(index=False)]}
    if problem.roles:
        county: dict = {}
        for fid, c in zip(plan["facility_id"].astype(str), plan["county"], strict=True):
            county.setdefault(fid, c)
        out["roles"] = [{"county": n.county, "role": n.role, "year": n.year, "min": n.low,
                         "max": n.high,
                         "holders": [f for f, y in holders(plan, n.role) if y == n.year
                                     and county[f] == n.county]}
                        for n in problem.roles]
    table = sequencing_table(plan, problem)
    if len(table):
        out["sequencing"] = table.to_dict("records")
    if "priority_tags" in plan:
        adm = plan[plan["admitted_year"].notna()] if "admitted_year" in plan else plan.iloc[:0]
        tags = _text(adm["priority_tags"])
        out["priorities"] = {code: int(tags.str.contains(label, regex=False).sum())
                             for code, label in FAVOUR_LABELS.items()}
    return out


def headline(section: dict) -> str:
    """One line for the terminal."""
    parts = []
    if "special_zones" in section:
        zones = section["special_zones"]
        n = len(zones["overrides"])
        if n or zones["budget"]:
            parts.append(f"特殊区域 {n} admission(s) beyond the yearly limits need expert "
                         "approval (需专家论证)")
        prop = zones.get("proposals")
        if prop and prop["candidates"]:
            parts.append(f"特殊区域准入建议 {prop['candidates']} candidate(s) for expert review, "
                         f"{prop['population']:,} blind-spot people ({prop['file']})")
    if "roles" in section:
        held: dict[str, int] = {}
        for r in section["roles"]:
            held[r["role"]] = held.get(r["role"], 0) + len(r["holders"])
        parts.append("roles " + ", ".join(f"{ROLE_LABELS[k].split()[0]} {v}"
                                          for k, v in held.items()))
    if "sequencing" in section:
        rows = section["sequencing"]
        opened = sum(1 for r in rows if r["admissions"])
        parts.append(f"存量退出优先: admissions in {opened} of {len(rows)} over-configured "
                     "county-years, each after its planned exits")
    return "; ".join(parts)


def residuals(plan: pd.DataFrame, problem: SiteProblem, d: pd.DataFrame) -> list[str]:
    """Checks 13–15 from plan.csv's columns and 0/1 paths (``d``: facility rows × years)."""
    out: list[str] = []
    ids = plan["facility_id"].astype(str).tolist()
    years = list(d.columns)
    steps = np.diff(d.to_numpy(), axis=1)
    admitted = {ids[i]: int(years[1 + j]) for i, j in zip(*np.nonzero(steps > 0), strict=True)}
    pos = {fid: i for i, fid in enumerate(ids)}

    # 13 special zones: override admissions are zone applicants within the budget
    over = override_mask(plan)
    budget = {(b.county, b.kind, b.year): b.admit for b in problem.zone_budget}
    used: dict[tuple[str, str, int], int] = {}
    for fid in np.asarray(ids)[over]:
        f = problem._by_id.get(fid)
        if f is None:
            continue
        if fid not in admitted:
            out.append(f"13 zones: {fid} carries an approval but is not admitted")
            continue
        key = (f.county, f.kind, admitted[fid])
        if not f.zone or f.existing:
            out.append(f"13 zones: {fid} is admitted beyond the limits but lies in no "
                       "special zone")
        elif problem.options.admit_mode == "exact":
            out.append(f"13 zones: {fid} is admitted beyond the limits under exact admissions")
        used[key] = used.get(key, 0) + 1
    for key, n in sorted(used.items()):
        if n > budget.get(key, 0):
            out.append(f"13 zones: {key[0]} {key[1]} {key[2]}: {n} override(s), budget "
                       f"{budget.get(key, 0)}")

    # 14 roles: holders designated and eligible, counts within the county's bounds
    for need in problem.roles:
        mine = [fid for fid, y in holders(plan, need.role) if y == need.year and fid in pos
                and fid in problem._by_id and problem.facility(fid).county == need.county]
        for fid in mine:
            if need.role not in problem.facility(fid).roles:
                out.append(f"14 roles: {fid} holds {need.role} but is not eligible")
            if int(d.iloc[pos[fid]][need.year]) != 1:
                out.append(f"14 roles: {fid} holds {need.role} in {need.year} undesignated")
        if len(mine) < need.low or (need.high is not None and len(mine) > need.high):
            out.append(f"14 roles: {need.county} {need.role} {need.year}: {len(mine)} "
                       f"holder(s), needs {need.low}–{need.high if need.high is not None else ''}")

    # 15 sequencing: admissions only in years whose planned exits are done
    for r in sequencing_table(plan, problem).itertuples(index=False):
        if r.admissions and not r.done:
            out.append(f"15 sequencing: {r.county} {r.kind} {r.year}: {r.admissions} "
                       f"admission(s) with {r.exits} of {r.planned_exits} planned exits")
    return out


def override_mask(plan: pd.DataFrame) -> np.ndarray:
    """Rows whose admission is a special-zone override (plan.csv's ``approval``)."""
    if "approval" not in plan:
        return np.zeros(len(plan), dtype=bool)
    return (_text(plan["approval"]).str.strip() != "").to_numpy()
