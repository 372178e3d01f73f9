"""Residual checks of a written beds plan, recomputed from its frames in plain pandas.

Nothing here trusts the model: every rule is re-derived from ``beds.csv`` (and, for Heze, from
the formula inputs) and each broken rule becomes one line of ``ExtraResult.violations``.
"""

from __future__ import annotations

import math

import pandas as pd

from dingdian.models.beds_model import BedProblem
from dingdian.scenario.beds import PublishedTables


def check_zhangye(frame: pd.DataFrame, problem: BedProblem, tables: PublishedTables) -> list[str]:
    """County (表4) and level (表5) totals, floors, flows, cut/nursing/growth rules."""
    out: list[str] = []
    t0, last = problem.base_year, problem.years[-1]
    hosp = {h.id: h for h in problem.hospitals}
    start = frame[frame["year"] == t0].set_index("hospital_id")
    for hid, h in hosp.items():
        got = int(start["beds"].get(hid, -1))
        if got != h.beds:
            out.append(f"{hid}: {t0} beds {got}, hospitals.csv says {h.beds}")
    end = frame[frame["year"] == last]
    for attr, table, label in (("county", tables.county, "表4"), ("level", tables.level, "表5")):
        sums = end.groupby(attr)["beds"].sum()
        for key, (_existing, planned) in table.items():
            got = int(sums.get(key, 0))
            if got != planned:
                out.append(f"{label} {key}: {last} beds {got}, planned {planned}")
    low = frame[frame["beds"] < frame["floor"]]
    for r in low.head(5).itertuples():
        out.append(f"{r.hospital_id} {r.year}: {r.beds} beds, below its floor {r.floor}")
    for col in ("beds", "cut", "added", "to_nursing"):
        neg = frame[frame[col] < 0]
        if len(neg):
            r = neg.iloc[0]
            out.append(f"{r.hospital_id} {r.year}: negative {col} {r[col]}")
    f = frame.sort_values(["hospital_id", "year"])
    prev = f.groupby("hospital_id")["beds"].shift()
    flow = f[prev.notna()]
    bad = flow[flow["beds"] != prev[prev.notna()] - flow["cut"] + flow["added"]]
    for r in bad.head(5).itertuples():
        out.append(f"{r.hospital_id} {r.year}: beds {r.beds} ≠ previous − cut {r.cut} + added "
                   f"{r.added}")
    over = frame[(frame["to_nursing"] > frame["cut"])
                 | ((frame["nursing_allowed"] == 0) & (frame["to_nursing"] > 0))]
    for r in over.head(5).itertuples():
        out.append(f"{r.hospital_id} {r.year}: {r.to_nursing} beds to nursing, cut {r.cut}, "
                   f"allowed {bool(r.nursing_allowed)}")
    plan = frame[frame["year"] > t0]
    yearly = plan.groupby(["county", "year"])[["cut", "added"]].sum()
    for (county, year), row in yearly.iterrows():
        if county not in problem.county_targets:
            continue
        if row["cut"] > problem.cut_cap(county):
            out.append(f"{county} {year}: cut {row['cut']} beds, yearly limit "
                       f"{problem.cut_cap(county)}")
        if row["added"] > 0 and problem.growth(county) == 0:
            out.append(f"{county} {year}: {row['added']} beds added in a county that shrinks")
        elif row["added"] > problem.add_cap(county):
            out.append(f"{county} {year}: added {row['added']} beds, yearly limit "
                       f"{problem.add_cap(county)}")
    conv = plan.groupby("county")["to_nursing"].sum()
    for county, cap in problem.nursing_capacity.items():
        if int(conv.get(county, 0)) > cap:
            out.append(f"{county}: {int(conv.get(county, 0))} beds to nursing, capacity {cap}")
    return out


def check_heze(ages: pd.DataFrame, counties: pd.DataFrame, figures: dict) -> list[str]:
    """The formula, the branch and the allocation recomputed from the inputs."""
    out: list[str] = []
    total = float(ages["insured"].sum())
    admissions = float((ages["admission_rate"] * ages["insured"]).sum())
    d = figures["discharges"]
    kp = (d["local_local"] - d["local_elsewhere"] + d["elsewhere_local"]) / d["local_local"]
    kf = figures["fund_months"]["payable"] / figures["fund_months"]["required"]
    need = (admissions * figures["avg_stay_days"] * 1000
            / (figures["occupancy"] * 365 * total) * kp * kf)
    if not math.isclose(need, figures["computed"], rel_tol=1e-9):
        out.append(f"测算值 {figures['computed']} ≠ {need} recomputed from the inputs")
    actual = float(counties["beds"].sum()) * 1000 / figures["population_total"]
    if not math.isclose(actual, figures["actual"], rel_tol=1e-9):
        out.append(f"实际值 {figures['actual']} ≠ {actual} recomputed from the county beds")
    target = figures["target"]
    branch = ("pause" if need < target and need < actual
              else "allocate" if need > target and need > actual else "hold")
    if branch != figures["branch"]:
        out.append(f"branch {figures['branch']!r}, the figures give {branch!r}")
    added = counties["added"]
    if (added < 0).any():
        out.append("a county gets a negative number of new beds")
    if branch != "allocate" and added.sum() != 0:
        out.append(f"{int(added.sum())} new beds allocated under branch {branch!r}")
    if "paused" in counties and (counties["paused"] != int(branch == "pause")).any():
        out.append(f"paused is {sorted(set(counties['paused']))}, branch {branch!r} says "
                   f"{int(branch == 'pause')}: a pause year admits no new inpatient designation")
    if branch == "allocate":
        barred = counties[(counties["outside_allocation"] == 1)
                          | (counties["occupancy"] < figures["min_occupancy"])]
        if barred["added"].sum() != 0:
            out.append("new beds allocated to a county outside the allocation or below the "
                       "occupancy threshold: " + ", ".join(barred.loc[barred["added"] > 0,
                                                                       "county"]))
        expect = max(0, math.floor((need - actual) * figures["population_total"] / 1000 + 1e-9))
        eligible = counties[counties["eligible"] == 1]
        if len(eligible) and int(added.sum()) != expect:
            out.append(f"{int(added.sum())} new beds allocated, the need allows {expect}")
    return out
