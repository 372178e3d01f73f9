r"""Agglomeration and density indices per county (Zhangye 一(二)2 and 附件1), before and after.

Seed, 一(二)2: "通过卫生资源聚集度与卫生资源密度指数评估（详见附件1），甘州区的定点药店及诊所资源存在
过剩现象，并且资源分布较为集中". 附件1 (卫生资源密度聚集度及密度指数) is not published with the text;
the definitions below are the standard ones of the health-resource literature that the
annex's title names.

For county :math:`i` of the city :math:`n`, with :math:`R` the designated facilities of a
kind, :math:`P` the census population and :math:`A` the area (km², geodesic, from the county
outline):

* resource agglomeration degree 卫生资源集聚度
  :math:`HRAD_i = (R_i/R_n) / (A_i/A_n)` — the county's share of the facilities over its share
  of the land; above 1, the facilities are more concentrated than the land;
* population agglomeration degree 人口集聚度 :math:`PAD_i = (P_i/P_n) / (A_i/A_n)`;
* :math:`HRAD_i/PAD_i = (R_i/R_n)/(P_i/P_n)` — above 1, the county holds more of the
  facilities than of the people (相对人口过剩), below 1 fewer (相对不足), 1 balanced;
* density index 卫生资源密度指数 :math:`HRDI_i = \sqrt{(R_i/P_i \times 1000)\,(R_i/A_i)}`,
  the geometric mean of the facilities per 1,000 people (the plan's own unit: 每千人拥有定点药店数
  0.53家) and per km².

Kinds (rows of ``OUT/indices.csv``): 无住院服务定点医疗机构 (``clinic``, the scope of 表2, village
clinics and community health centres included), 其中诊所 (``clinic`` category only: the plan's
"诊所") and 定点零售药店 (``pharmacy``). Years: the base year (before the plan) and the last
planning year (after it), counted from the written plan; the population is the census figure
in both (the plan gives no projection), the city row 全市 has every ratio 1.

Summary (``indices`` in ``summary.json``): per kind and year the counties whose HRAD/PAD is
above 1. Switch: ``rules.indices: false``.
"""

from __future__ import annotations

import math

import pandas as pd
from pyproj import Geod

from dingdian.result import ExtraResult

CITY = "全市"
#: kind key → (label, facility filter on plan.csv columns)
KINDS = {
    "clinic": ("无住院服务定点医疗机构 clinic", lambda p: p["kind"] == "clinic"),
    "clinic_category": ("其中诊所 of which 诊所", lambda p: (p["kind"] == "clinic")
                        & (p["category"] == "clinic")),
    "pharmacy": ("定点零售药店 pharmacy", lambda p: p["kind"] == "pharmacy"),
}
HEADINGS = {
    "county": "县区 county", "kind": "类别 kind", "year": "年份 year",
    "facilities": "机构数 facilities", "population": "人口 population",
    "area_km2": "面积 area_km2", "resource_share": "机构占比 resource_share",
    "population_share": "人口占比 population_share", "area_share": "面积占比 area_share",
    "hrad": "卫生资源集聚度 HRAD", "pad": "人口集聚度 PAD", "hrad_pad": "集聚度比 HRAD/PAD",
    "per_1000": "每千人口 per_1000", "per_km2": "每平方公里 per_km2",
    "hrdi": "密度指数 HRDI", "assessment": "评价 assessment",
}


def county_areas_km2(counties: dict) -> dict[str, float]:
    """Geodesic area (km², WGS84 ellipsoid) of each lon/lat county outline."""
    geod = Geod(ellps="WGS84")
    return {name: abs(geod.geometry_area_perimeter(geom)[0]) / 1e6
            for name, geom in counties.items()}


def _assess(ratio: float | None) -> str:
    if ratio is None:
        return ""
    if ratio > 1:
        return "高于人口占比 above the population share (相对过剩)"
    if ratio < 1:
        return "低于人口占比 below the population share (相对不足)"
    return "与人口占比相当 equal to the population share"


def indices_frame(counts: pd.DataFrame, population: dict[str, int],
                  area_km2: dict[str, float]) -> pd.DataFrame:
    """The indices (module docstring) from ``counts``: ``county, kind, year, facilities``.

    One row per county (in ``population`` order, then 全市), kind and year. A ratio whose
    denominator is 0 (no facility of the kind in the city, a county of no area) is empty.
    """
    counties = list(population)
    p_n, a_n = sum(population.values()), sum(area_km2[c] for c in counties)
    rows = []
    for (kind, year), grp in counts.groupby(["kind", "year"], sort=False):
        have = dict(zip(grp["county"], grp["facilities"], strict=True))
        r_n = sum(int(have.get(c, 0)) for c in counties)
        for county in [*counties, CITY]:
            r = r_n if county == CITY else int(have.get(county, 0))
            p = p_n if county == CITY else population[county]
            a = a_n if county == CITY else area_km2[county]
            rs = r / r_n if r_n else None
            ps, as_ = p / p_n, a / a_n
            hrad = rs / as_ if rs is not None and as_ else None
            pad = ps / as_ if as_ else None
            ratio = rs / ps if rs is not None and ps else None
            per_1000 = r / p * 1000 if p else None
            per_km2 = r / a if a else None
            hrdi = math.sqrt(per_1000 * per_km2) if None not in (per_1000, per_km2) else None
            rows.append({"county": county, "kind": kind, "year": int(year), "facilities": r,
                         "population": p, "area_km2": a, "resource_share": rs,
                         "population_share": ps, "area_share": as_, "hrad": hrad, "pad": pad,
                         "hrad_pad": ratio, "per_1000": per_1000, "per_km2": per_km2,
                         "hrdi": hrdi, "assessment": _assess(ratio)})
    return pd.DataFrame(rows, columns=list(HEADINGS))


def plan_counts(plan: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """``county, kind, year, facilities``: designated facilities of each kind (``KINDS``) per
    county at the end of each of ``years``, from plan.csv's 0/1 year columns."""
    rows = []
    for kind, (_label, pick) in KINDS.items():
        sub = plan[pick(plan)]
        for year in years:
            got = sub.groupby("county")[str(year)].sum()
            rows += [{"county": c, "kind": kind, "year": int(year), "facilities": int(n)}
                     for c, n in got.items()]
    return pd.DataFrame(rows, columns=["county", "kind", "year", "facilities"])


def indices_summary(frame: pd.DataFrame) -> dict:
    """Per kind and year: counties above 1 (HRAD/PAD), and each county's ratio."""
    out: dict = {"source": "Zhangye 一(二)2, 附件1 卫生资源集聚度与密度指数", "kinds": {}}
    parts = []
    for (kind, year), grp in frame[frame["county"] != CITY].groupby(["kind", "year"], sort=False):
        above = grp[grp["hrad_pad"] > 1]["county"].tolist()
        out["kinds"].setdefault(kind, {})[str(year)] = {
            "above_population_share": above,
            "hrad_pad": {r.county: None if pd.isna(r.hrad_pad) else round(float(r.hrad_pad), 4)
                         for r in grp.itertuples(index=False)},
            "hrad": {r.county: None if pd.isna(r.hrad) else round(float(r.hrad), 4)
                     for r in grp.itertuples(index=False)}}
        parts.append(f"{kind} {year}: HRAD/PAD > 1 in {', '.join(above) or 'none'}")
    out["headline"] = "; ".join(parts)
    return out


def indices_table(frame: pd.DataFrame) -> pd.DataFrame:
    """indices.csv: kinds by label, figures rounded, Chinese headings."""
    out = frame.copy()
    out["kind"] = out["kind"].map(lambda k: KINDS[k][0])
    out["area_km2"] = out["area_km2"].round(2)
    for col in ("resource_share", "population_share", "area_share", "hrad", "pad", "hrad_pad",
                "per_1000", "per_km2", "hrdi"):
        out[col] = out[col].astype(float).round(4)
    return out.rename(columns=HEADINGS)


def indices_extra(sc, plan: pd.DataFrame) -> ExtraResult | None:
    """``OUT/indices.csv``, a 集聚度 sheet and the ``indices`` summary section, base year
    against the last planning year; None when the rule is off or there is no census."""
    if not sc.config.rules.indices or sc.census is None:
        return None
    population = {r.county: int(r.population) for r in sc.census.itertuples(index=False)}
    years = [int(sc.config.base_year), int(sc.config.years[-1])]
    frame = indices_frame(plan_counts(plan, years), population, county_areas_km2(sc.counties))
    table = indices_table(frame)
    return ExtraResult(name="indices", files={"indices.csv": table},
                       sheets={"集聚度 indices": table}, summary=indices_summary(frame))
