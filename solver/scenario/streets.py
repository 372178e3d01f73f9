r"""Street quotas by the plan's two-factor model (Zhangye 五(一)3 and 五(二)3), a pre-solve rule.

Seed: 五(二)3 甘州区城区配置 "以街道为单位划分六边形（服务半径为1060.82米）15分钟基本服务圈，计算方法
采用“人口因素（90%）+地理因素（10%）”的双因素模型" and 五(一)3 "甘州区城市区域以街道为单位划分六边形".
The plan publishes the result (表8/表9) but not the computation; this module makes it explicit.

Rule
----
For a county :math:`c` with streets :math:`S_c` (the urban areas of ``urban_areas.geojson`` that
name a street):

* :math:`p_s` — the street's population: the sum of its planning cells' populations
  (:mod:`dingdian.scenario.cells`);
* :math:`g_s` — the street's geography: its area in km² in the scenario's projected CRS
  (``rules.street_split_geography: area``, the default) or its number of planning cells
  (``cells``);
* the weight :math:`w_s = 0.9\,p_s/\sum p + 0.1\,g_s/\sum g` (sums over :math:`S_c`, so
  :math:`\sum_s w_s = 1`; a factor that is 0 for every street gives equal shares).

For each kind :math:`k` and year :math:`t` with a county row (:math:`A_{ckt}` admissions,
:math:`X_{ckt}` exits, 表6/表7):

* raw quotas :math:`w_s A_{ckt}` and :math:`w_s X_{ckt}`;
* integer quotas :math:`A_{skt}`, :math:`X_{skt}` by the largest remainder
  (:func:`dingdian.geometry.largest_remainder`: the floors, then the units left over to the
  largest fractions, ties to the earlier street) over what each street is *owed*: its share of
  the county's running total less what it already got,
  :math:`o_{skt} = w_s \sum_{t'\le t} A_{ckt'} - \sum_{t'<t} A_{skt'}` (likewise for exits).
  So :math:`\sum_s A_{skt} = A_{ckt}` and :math:`\sum_s X_{skt} = X_{ckt}` in every year — the
  streets add up to the county, as 表8/表9 add up to 甘州区's row of 表6/表7. While no owed
  amount is negative, the owed amounts add up to the year's figure, so each street gets their
  floor or ceiling and its running total is :math:`\lfloor w_s \sum A\rfloor` or
  :math:`\lceil w_s \sum A\rceil`. A street that the rounding already favoured and whose
  owed amount is negative gets 0 that year, and the year's units go over the positive amounts
  (the tests check on random figures that every running total stays within one of its
  share). The county's facilities outside its streets get no quota (the ``rest`` rows of
  constraint (4) are 0, as in the published plan).

Why the running total: rounding each year on its own gives the same street the same fraction
every year, so with 甘州区's three clinic admissions a year 东街街道 (share 0.144, 0.43 a year)
would get none in six years instead of about 2.6.

The derived rows join :attr:`dingdian.scenario.loader.Scenario.quotas` as level ``street`` with
``source = derived`` and feed constraint (4) of :mod:`dingdian.models.site` unchanged;
``options.street_quotas: false`` drops them as it drops given rows. ``decisions.csv`` names
them in its ``quota`` column (``表9 东街街道 2025 人口90%+地理10%推算``).

Switch ``rules.street_split``:

* ``auto`` (default) — derive for a county with streets and no street row in the scenario;
  a county with given rows (``quotas_street.csv``) keeps them, and the report compares them
  with the rule;
* ``derive`` — derive for every county with streets; given rows are not applied, only
  compared with;
* ``off`` — never derive, no report.

The report of the rule (``OUT/street_split.csv``) is :mod:`dingdian.planners.street_split`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dingdian.geometry import largest_remainder

POPULATION_WEIGHT, GEOGRAPHY_WEIGHT = 0.9, 0.1
DERIVED = "derived"
LABEL = "人口90%+地理10%推算"
FLOWS = ("admit", "exit")


def street_inputs(cells: pd.DataFrame, urban_areas) -> pd.DataFrame:
    """Per street (urban-area order): ``county, street, population, area_km2, cells``.

    ``urban_areas`` are :class:`dingdian.scenario.cells.UrbanArea` (projected geometry); areas of
    several polygons of one street add up.
    """
    areas: dict[tuple[str, str], float] = {}
    for a in urban_areas:
        if a.street:
            key = (a.county, a.street)
            areas[key] = areas.get(key, 0.0) + float(a.geom.area) / 1e6
    sub = cells[cells["street"].astype(str) != ""]
    pop = sub.groupby(["county", "street"])["population"].sum()
    n = sub.groupby(["county", "street"]).size()
    return pd.DataFrame(
        [{"county": c, "street": s, "population": int(pop.get((c, s), 0)),
          "area_km2": round(area, 6), "cells": int(n.get((c, s), 0))}
         for (c, s), area in areas.items()],
        columns=["county", "street", "population", "area_km2", "cells"])


def _share(values: pd.Series) -> np.ndarray:
    v = values.to_numpy(dtype=float)
    return v / v.sum() if v.sum() > 0 else np.full(len(v), 1.0 / len(v))


def street_weights(inputs: pd.DataFrame, geography: str = "area") -> pd.DataFrame:
    """``inputs`` plus ``population_share``, ``geography_share`` and ``weight`` per county."""
    geo = {"area": "area_km2", "cells": "cells"}[geography]
    out = inputs.copy()
    for col in ("population_share", "geography_share", "weight"):
        out[col] = 0.0
    for _county, idx in out.groupby("county", sort=False).groups.items():
        ps, gs = _share(out.loc[idx, "population"]), _share(out.loc[idx, geo])
        out.loc[idx, "population_share"] = ps
        out.loc[idx, "geography_share"] = gs
        out.loc[idx, "weight"] = POPULATION_WEIGHT * ps + GEOGRAPHY_WEIGHT * gs
    return out


def split_quotas(county_quotas: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Every county row (``county, kind, year, admit, exit``) of a county with streets split
    over its streets (see the module docstring): one row per street, kind and year with the
    weights and, per flow, ``county_admit``, ``admit_raw`` (w × county figure), ``admit_owed``
    (the running share less what the street already got) and ``admit`` (the integer)."""
    rows = []
    for (county, _kind), grp in county_quotas.groupby(["county", "kind"], sort=False):
        w = weights[weights["county"] == county]
        if w.empty:
            continue
        share = w["weight"].to_numpy(float)
        given = {f: np.zeros(len(w), dtype=np.int64) for f in FLOWS}
        running = dict.fromkeys(FLOWS, 0)
        for q in grp.sort_values("year").itertuples(index=False):
            part, owed = {}, {}
            for f in FLOWS:
                total = int(getattr(q, f))
                running[f] += total
                owed[f] = running[f] * share - given[f]
                part[f] = largest_remainder(total, np.clip(owed[f], 0.0, None))
                given[f] += part[f]
            for i, s in enumerate(w.itertuples(index=False)):
                row = {**s._asdict(), "kind": q.kind, "year": int(q.year)}
                for f in FLOWS:
                    row[f"county_{f}"] = int(getattr(q, f))
                    row[f"{f}_raw"] = float(getattr(q, f)) * s.weight
                    row[f"{f}_owed"] = float(owed[f][i])
                    row[f] = int(part[f][i])
                rows.append(row)
    cols = [*weights.columns, "kind", "year"] + [
        c for f in FLOWS for c in (f"county_{f}", f"{f}_raw", f"{f}_owed", f)]
    return pd.DataFrame(rows, columns=cols)


def derive_street_quotas(rules, quotas: pd.DataFrame, cells: pd.DataFrame, urban_areas,
                         error: Callable[[tuple, str, str], Exception],
                         street_overrides: int = 0) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Apply the rule to the loaded quotas (see the module docstring).

    ``rules`` is the scenario's ``rules:`` section, ``quotas`` :attr:`Scenario.quotas` as read
    (county rows and any given street rows), ``error(loc, field, message)`` makes the one-line
    error for a key of the scenario file (:meth:`dingdian.scenario.variants.Resolved.error`), and
    ``street_overrides`` counts the variant's ``overrides.street_quotas`` entries.

    Returns the quotas to apply and the split table (None when the rule is off or the scenario
    has no street); a derived row has ``source = derived``.
    """
    mode = getattr(rules, "street_split", "off")
    if mode == "off":
        return quotas, None
    inputs = street_inputs(cells, urban_areas)
    if inputs.empty:
        if mode == "derive":
            raise error(("rules", "street_split"), "rules.street_split",
                        "derive needs streets, but no urban area names a street")
        return quotas, None
    if mode == "derive" and street_overrides:
        raise error(("overrides", "street_quotas"), "overrides.street_quotas",
                    "has no effect: rules.street_split derive replaces every street quota")
    weights = street_weights(inputs, rules.street_split_geography)
    county_rows = quotas[(quotas["level"] == "county")
                         & quotas["county"].isin(set(inputs["county"]))]
    split = split_quotas(county_rows, weights)
    given = quotas[quotas["level"] == "street"]
    with_rows = set(given["county"])
    derive = {c for c in inputs["county"] if mode == "derive" or c not in with_rows}
    published = given.rename(columns={"area": "street", "admit": "admit_published",
                                      "exit": "exit_published"})
    split = split.merge(published[["county", "street", "kind", "year", "admit_published",
                                   "exit_published"]],
                        on=["county", "street", "kind", "year"], how="left")
    for f in FLOWS:
        split[f"{f}_published"] = split[f"{f}_published"].astype("Int64")
        split[f"{f}_difference"] = split[f] - split[f"{f}_published"]
    split["applied"] = np.where(split["county"].isin(derive), DERIVED, "published")
    if not derive:
        return quotas, split
    new = split[split["county"].isin(derive)]
    rows = pd.DataFrame({"level": "street", "county": new["county"], "area": new["street"],
                         "kind": new["kind"], "year": new["year"], "admit": new["admit"],
                         "exit": new["exit"], "source": DERIVED})
    kept = quotas[~((quotas["level"] == "street") & quotas["county"].isin(derive))]
    kept = kept.assign(source=kept["source"] if "source" in kept else "")
    return pd.concat([kept, rows], ignore_index=True), split
