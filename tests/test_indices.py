"""Agglomeration and density indices (dingdian.planners.indices, Zhangye 一(二)2 and 附件1), by hand.

Two counties, X and Y:

    area        100 km²    300 km²     city 400 km²   → area shares 0.25 / 0.75
    population  30,000     10,000      city 40,000    → population shares 0.75 / 0.25
    before      32         8           city 40        → facility shares 0.8 / 0.2
    after       24         8           city 32        → facility shares 0.75 / 0.25

before, X: HRAD = 0.8/0.25 = 3.2, PAD = 0.75/0.25 = 3, HRAD/PAD = 0.8/0.75 = 1.0667 (above:
           相对过剩), per 1,000 = 32/30 = 1.0667, per km² = 0.32, HRDI = √(1.0667 × 0.32) = 0.5842
        Y: HRAD = 0.2/0.75 = 0.2667, PAD = 0.25/0.75 = 0.3333, HRAD/PAD = 0.2/0.25 = 0.8 (below),
           per 1,000 = 0.8, per km² = 8/300 = 0.02667, HRDI = √(0.8 × 0.02667) = 0.1461
after,  X: HRAD = 3, HRAD/PAD = 1 exactly (balanced); Y: HRAD/PAD = 1.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import shapely

from dingdian.planners.indices import (
    CITY,
    HEADINGS,
    county_areas_km2,
    indices_frame,
    indices_summary,
    indices_table,
    plan_counts,
)

POP = {"X": 30_000, "Y": 10_000}
AREA = {"X": 100.0, "Y": 300.0}


def counts(before=(32, 8), after=(24, 8)) -> pd.DataFrame:
    return pd.DataFrame([{"county": c, "kind": "pharmacy", "year": y, "facilities": n}
                         for y, ns in ((2024, before), (2030, after))
                         for c, n in zip("XY", ns, strict=True)])


def row(frame, county, year):
    return frame[(frame["county"] == county) & (frame["year"] == year)].iloc[0]


def test_indices_by_hand():
    f = indices_frame(counts(), POP, AREA)
    x, y = row(f, "X", 2024), row(f, "Y", 2024)
    assert (x["hrad"], x["pad"], x["hrad_pad"]) == pytest.approx((3.2, 3.0, 0.8 / 0.75))
    assert (x["per_1000"], x["per_km2"]) == pytest.approx((32 / 30, 0.32))
    assert x["hrdi"] == pytest.approx(math.sqrt(32 / 30 * 0.32)) == pytest.approx(0.5842, abs=1e-4)
    assert (y["hrad"], y["pad"], y["hrad_pad"]) == pytest.approx((0.2 / 0.75, 0.25 / 0.75, 0.8))
    assert y["hrdi"] == pytest.approx(0.1461, abs=1e-4)
    assert x["assessment"].startswith("高于") and y["assessment"].startswith("低于")
    # the twin: after the plan X no longer holds more than its population share
    x2 = row(f, "X", 2030)
    assert x2["hrad"] == pytest.approx(3.0) and x2["hrad_pad"] == 1.0
    assert x2["assessment"].startswith("与人口占比相当")
    city = row(f, CITY, 2024)
    assert (city["facilities"], city["hrad"], city["pad"], city["hrad_pad"]) == (40, 1, 1, 1)
    assert city["per_1000"] == pytest.approx(1.0) and city["per_km2"] == pytest.approx(0.1)
    summary = indices_summary(f)
    assert summary["kinds"]["pharmacy"]["2024"]["above_population_share"] == ["X"]
    assert summary["kinds"]["pharmacy"]["2030"]["above_population_share"] == []


def test_hrad_over_pad_is_the_share_ratio_whatever_the_areas():
    # HRAD/PAD = (R_i/R_n)/(P_i/P_n): the areas cancel
    other = indices_frame(counts(), POP, {"X": 7.0, "Y": 1.0})
    base = indices_frame(counts(), POP, AREA)
    assert other["hrad_pad"].tolist() == pytest.approx(base["hrad_pad"].tolist())
    assert other["hrad"].tolist() != pytest.approx(base["hrad"].tolist())


def test_no_facility_of_a_kind_leaves_the_ratios_empty():
    f = indices_frame(counts(before=(0, 0)), POP, AREA)
    x = row(f, "X", 2024)
    assert pd.isna(x["hrad"]) and pd.isna(x["hrad_pad"]) and x["assessment"] == ""
    assert x["per_1000"] == 0 and x["hrdi"] == 0


def test_plan_counts_per_kind_and_category():
    plan = pd.DataFrame({"kind": ["clinic", "clinic", "clinic", "pharmacy"],
                         "category": ["clinic", "village_clinic", "clinic", "chain_pharmacy"],
                         "county": ["X", "X", "Y", "Y"],
                         "2024": [1, 1, 1, 1], "2030": [0, 1, 1, 1]})
    got = plan_counts(plan, [2024, 2030]).set_index(["kind", "county", "year"])["facilities"]
    assert got[("clinic", "X", 2024)] == 2 and got[("clinic", "X", 2030)] == 1
    assert got[("clinic_category", "X", 2024)] == 1 and got[("clinic_category", "X", 2030)] == 0
    assert got[("pharmacy", "Y", 2030)] == 1 and ("pharmacy", "X", 2030) not in got


def test_geodesic_area_of_a_degree_square():
    # 1° × 1° at the equator: 111.32 km × 110.57 km ≈ 12,309 km² on the WGS84 ellipsoid
    area = county_areas_km2({"Q": shapely.box(0, 0, 1, 1)})["Q"]
    assert area == pytest.approx(12_309, rel=2e-3)


def test_table_has_chinese_headings():
    table = indices_table(indices_frame(counts(), POP, AREA))
    assert list(table.columns) == list(HEADINGS.values())
    assert table["类别 kind"].iloc[0] == "定点零售药店 pharmacy"
    assert len(table) == 2 * 3  # two years × (X, Y, 全市)
