r"""The report of the street split (Zhangye 五(一)3 and 五(二)3 人口因素90%+地理因素10%).

The rule itself, applied to the quotas before the solve, is :mod:`dingdian.scenario.streets`.

Report (:func:`street_split_extra`): ``OUT/street_split.csv`` (one row per county, street,
kind and year: the inputs, shares, weight, raw and integer quotas, the published quota and the
difference, and which of the two the plan applied) and a ``street_split`` section in
``summary.json``: per street the 2025–2030 totals, the rule against the published figures, and
the streets whose derived exits exceed what they hold (a plan must then exit elsewhere, and
under exact quotas it cannot).
"""

from __future__ import annotations

import pandas as pd

from dingdian.result import ExtraResult
from dingdian.scenario.streets import DERIVED, FLOWS, GEOGRAPHY_WEIGHT, POPULATION_WEIGHT

#: street_split.csv headings (Chinese first, as in the plan's tables)
HEADINGS = {
    "county": "县区 county", "street": "街道 street", "kind": "类别 kind", "year": "年份 year",
    "population": "人口 population", "population_share": "人口占比 population_share",
    "area_km2": "面积 area_km2", "cells": "网格数 cells",
    "geography_share": "地理占比 geography_share", "weight": "权重 weight",
    "county_admit": "县区准入 county_admit", "admit_raw": "准入测算 admit_raw",
    "admit_owed": "准入应得 admit_owed", "admit": "准入 admit", "admit_published": "公布准入 admit_published",
    "admit_difference": "准入差 admit_difference",
    "county_exit": "县区退出 county_exit", "exit_raw": "退出测算 exit_raw",
    "exit_owed": "退出应得 exit_owed", "exit": "退出 exit", "exit_published": "公布退出 exit_published",
    "exit_difference": "退出差 exit_difference", "applied": "采用 applied",
}



def street_split_table(split: pd.DataFrame) -> pd.DataFrame:
    """street_split.csv: the split with Chinese headings, shares and raw quotas rounded."""
    out = split.copy()
    for col in ("population_share", "geography_share", "weight"):
        out[col] = out[col].round(6)
    for col in ("admit_raw", "exit_raw", "admit_owed", "exit_owed", "area_km2"):
        out[col] = out[col].round(4)
    return out[list(HEADINGS)].rename(columns=HEADINGS)


def _capacity(split: pd.DataFrame, facilities: pd.DataFrame) -> list[dict]:
    """Streets whose exits by the rule over all years exceed what they can exit: the
    unprotected designated facilities plus the applicants (admitted before they exit)."""
    out = []
    fac = facilities[facilities["street"].astype(str) != ""]
    for (county, street, kind), grp in split.groupby(["county", "street", "kind"], sort=False):
        f = fac[(fac["county"] == county) & (fac["street"] == street) & (fac["kind"] == kind)]
        existing = f[(f["status"] == "existing") & ~f["protected"].astype(bool)]
        applicants = f[f["status"] == "applicant"]
        can = len(existing) + len(applicants)
        need = int(grp["exit"].sum())
        if need > can:
            out.append({"county": county, "street": street, "kind": kind,
                        "applied": grp["applied"].iloc[0], "exits_derived": need,
                        "unprotected_designated": len(existing), "applicants": len(applicants),
                        "unusable": need - can})
    return out


def _comparison(split: pd.DataFrame) -> dict:
    """The rule against the published street figures, per kind and flow, and per street."""
    have = split.dropna(subset=["admit_published", "exit_published"])
    if have.empty:
        return {}
    out: dict = {"by_kind": {}, "by_street": []}
    for kind, grp in have.groupby("kind", sort=False):
        out["by_kind"][kind] = {}
        for f in FLOWS:
            d = (grp[f] - grp[f"{f}_published"]).astype(int)
            worst = grp.loc[d.abs().idxmax()]
            out["by_kind"][kind][f] = {
                "cells": len(grp), "cells_differing": int((d != 0).sum()),
                "sum_abs_difference": int(d.abs().sum()), "max_abs_difference": int(d.abs().max()),
                "largest": {"street": worst["street"], "year": int(worst["year"]),
                            "rule": int(worst[f]), "published": int(worst[f"{f}_published"])},
            }
    totals = have.groupby(["county", "street", "kind"], sort=False)[
        ["admit", "admit_published", "exit", "exit_published"]].sum()
    for (county, street, kind), r in totals.iterrows():
        out["by_street"].append({
            "county": county, "street": street, "kind": kind,
            "admit_rule": int(r["admit"]), "admit_published": int(r["admit_published"]),
            "exit_rule": int(r["exit"]), "exit_published": int(r["exit_published"])})
    return out


def street_split_extra(sc) -> ExtraResult | None:
    """``OUT/street_split.csv``, a 街道测算 sheet and the ``street_split`` summary section."""
    split = getattr(sc, "street_split", None)
    if split is None or split.empty:
        return None
    rules = sc.config.rules
    streets = split.drop_duplicates(["county", "street"])[
        ["county", "street", "population", "population_share", "area_km2", "cells",
         "geography_share", "weight"]]
    applied = dict(split.drop_duplicates("county")[["county", "applied"]].to_numpy())
    capacity = _capacity(split, sc.facilities)
    comparison = _comparison(split)
    warnings = [f"{c['county']} {c['street']} {c['kind']}: the 90/10 split gives "
                f"{c['exits_derived']} exits in {int(split['year'].min())}–"
                f"{int(split['year'].max())}, the street can exit at most "
                f"{c['exits_derived'] - c['unusable']} ({c['unprotected_designated']} "
                f"unprotected designated + {c['applicants']} applicants)"
                for c in capacity if c["applied"] == DERIVED]
    parts = []
    for county, how in applied.items():
        parts.append(f"{county}: {'derived by' if how == DERIVED else 'published, compared with'}"
                     f" 人口90%+地理10% ({rules.street_split_geography})")
    for kind, flows in comparison.get("by_kind", {}).items():
        parts.append(f"{kind} " + ", ".join(
            f"{f} differs in {v['cells_differing']}/{v['cells']} street-years "
            f"(Σ|Δ| {v['sum_abs_difference']})" for f, v in flows.items()))
    summary = {
        "source": "Zhangye 五(一)3, 五(二)3 人口因素（90%）+地理因素（10%）",
        "mode": rules.street_split, "geography": rules.street_split_geography,
        "weights": {"population": POPULATION_WEIGHT, "geography": GEOGRAPHY_WEIGHT},
        "applied": applied, "streets": streets.to_dict("records"),
        "comparison": comparison, "capacity": capacity, "warnings": warnings,
        "headline": "; ".join(parts),
    }
    table = street_split_table(split)
    return ExtraResult(name="street_split", files={"street_split.csv": table},
                       sheets={"街道测算 street split": table}, summary=summary)
