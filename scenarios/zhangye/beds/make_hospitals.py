"""Write the SYNTHETIC hospital list ``hospitals.csv`` for the Zhangye beds plan.

Deterministic: ``numpy.random.default_rng(2025)``, fixed draw order; running
``python scenarios/zhangye/beds/make_hospitals.py`` rewrites the file byte for byte.

What is real: the margins. The county × level matrix ``MATRIX`` (existing beds, end of 2024)
is chosen so that its row sums are 表4's existing beds (甘州区 5542, 临泽县 1098, 高台县 1061,
山丹县 1498, 民乐县 2207, 肃南县 356) and its column sums 表5's (三级 3457, 二级 5728,
一级及未定级 2577), 11,762 in all. The cells themselves are invented (no per-county, per-level
bed table is published): 三级 beds in 甘州区 (2,857) and 民乐县 (600), 二级 and 一级 everywhere.

    county      三级   二级  一级及未定级   total
    甘州区      2857   1685   1000         5542
    临泽县         0    800    298         1098
    高台县         0    780    281         1061
    山丹县         0   1100    398         1498
    民乐县       600   1113    494         2207
    肃南县         0    250    106          356
    total       3457   5728   2577        11762

Everything else is invented:

* hospitals per cell ``COUNT`` (三级 3 + 1, 二级 2–5 per county, 一级及未定级 8–30 per county:
  township hospitals and small private hospitals), 107 in all;
* beds per hospital: the cell total split ∝ U(0.5, 1.5) weights sorted descending (the first
  is the biggest), after a minimum per level (三级 300, 二级 60, 一级 8), by largest remainder;
* occupancy (病床使用率): 三级 N(0.92, 0.05), 二级 N(0.80, 0.08), 一级 N(0.55, 0.12), clipped
  to 0.20–1.10, three decimals;
* nursing_allowed (may convert cut beds to nursing beds): 一级 with probability 0.5, 二级 0.25,
  三级 never;
* floor left blank: the plan's default (beds.yaml ``min_share`` 50 %);
* type (机构类别, for the basic set of 四(一), :mod:`dingdian.planners.basic_set`), drawn last from a
  second generator (``default_rng(SEED_TYPES)``) so that every column above keeps its values:
  in each county the first three hospitals in level order (三级, 二级, 一级; biggest first) are
  the basic set — 综合医院 (the county's general hospital), then 中医医院 (民族医医院 in the
  ethnic county 肃南县, 民族地区优先), then 妇幼保健院; every other 三级/二级 hospital is
  综合医院, 中西医结合医院 or 专科医院 (0.5 / 0.2 / 0.3), every other 一级 one 乡镇卫生院, 综合医院
  or 专科医院 (0.6 / 0.25 / 0.15).

    python scenarios/zhangye/beds/make_hospitals.py [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

from dingdian.models.beds import largest_remainder

HERE = Path(__file__).resolve().parent

SEED = 2025
SEED_TYPES = 2026
ETHNIC = ("肃南县",)  # 肃南裕固族自治县
BASIC = ("综合医院", "中医医院", "妇幼保健院")
OTHER_TYPES = (("综合医院", "中西医结合医院", "专科医院"), (0.5, 0.2, 0.3))
OTHER_TYPES_L1 = (("乡镇卫生院", "综合医院", "专科医院"), (0.6, 0.25, 0.15))
COUNTIES = ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县")
LEVELS = ("三级", "二级", "一级及未定级")
MATRIX = {
    "甘州区": (2857, 1685, 1000),
    "临泽县": (0, 800, 298),
    "高台县": (0, 780, 281),
    "山丹县": (0, 1100, 398),
    "民乐县": (600, 1113, 494),
    "肃南县": (0, 250, 106),
}
COUNT = {
    "甘州区": (3, 5, 30),
    "临泽县": (0, 3, 10),
    "高台县": (0, 3, 10),
    "山丹县": (0, 3, 12),
    "民乐县": (1, 3, 14),
    "肃南县": (0, 2, 8),
}
MIN_BEDS = (300, 60, 8)
OCCUPANCY = ((0.92, 0.05), (0.80, 0.08), (0.55, 0.12))
NURSING = (0.0, 0.25, 0.5)
COLUMNS = ["hospital_id", "name", "county", "level", "beds", "occupancy", "nursing_allowed",
           "floor", "synthetic", "type"]
TABLE4 = (5542, 1098, 1061, 1498, 2207, 356)
TABLE5 = (3457, 5728, 2577)


def check_margins() -> None:
    rows = tuple(sum(MATRIX[c]) for c in COUNTIES)
    cols = tuple(sum(MATRIX[c][j] for c in COUNTIES) for j in range(len(LEVELS)))
    assert rows == TABLE4, rows
    assert cols == TABLE5, cols


def render() -> str:
    check_margins()
    rng = np.random.default_rng(SEED)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    rows = []
    for county in COUNTIES:
        for j, level in enumerate(LEVELS):
            total, count = MATRIX[county][j], COUNT[county][j]
            if count == 0:
                continue
            weights = sorted(rng.uniform(0.5, 1.5, count), reverse=True)
            extra = largest_remainder(total - count * MIN_BEDS[j], weights)
            mean, sd = OCCUPANCY[j]
            occ = np.clip(rng.normal(mean, sd, count), 0.20, 1.10)
            nursing = rng.random(count) < NURSING[j]
            for k in range(count):
                rows.append([f"ZY-H-{len(rows) + 1:03d}", f"{county}{level}医院{k + 1:02d}",
                             county, level, MIN_BEDS[j] + extra[k], f"{occ[k]:.3f}",
                             int(nursing[k]), "", 1])
    for row, kind in zip(rows, institution_types(rows), strict=True):
        w.writerow([*row, kind])
    return buf.getvalue()


def institution_types(rows: list[list]) -> list[str]:
    """The ``type`` column (see the module docstring): the basic set first, the rest drawn."""
    rng = np.random.default_rng(SEED_TYPES)
    out, seen = [], {}
    for row in rows:
        county, level = row[2], row[3]
        k = seen[county] = seen.get(county, -1) + 1
        if k < len(BASIC):
            kind = BASIC[k]
            out.append("民族医医院" if kind == "中医医院" and county in ETHNIC else kind)
        else:
            names, p = OTHER_TYPES_L1 if level == LEVELS[-1] else OTHER_TYPES
            out.append(str(rng.choice(names, p=p)))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write the synthetic Zhangye hospitals.csv")
    ap.add_argument("--out", type=Path, default=HERE / "hospitals.csv")
    args = ap.parse_args(argv)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
